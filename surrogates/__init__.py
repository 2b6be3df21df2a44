"""BNN surrogates as BoTorch models (deep ensemble, MC dropout) and the GP baseline."""
