"""The random-Fourier-feature network: the GP it approximates, a joint posterior, the evidence.

The conformance suite covers every ``rff`` variant through the registry; these tests fail if the maths is
wrong.
"""

from __future__ import annotations

import math

import pytest
import torch
from gpytorch.distributions import MultivariateNormal
from gpytorch.kernels import Kernel as GPKernel
from gpytorch.kernels import MaternKernel, RBFKernel

from surrogates.capped import capped_indices
from surrogates.rff import (
    Hypers,
    Kernel,
    RFFNetwork,
    Sampling,
    draw_frequencies,
    features,
    kernel_matrix,
    log_evidence,
    step_keeping_best,
)

ELL = torch.tensor([0.3, 0.5], dtype=torch.float64)
FIXED = Hypers(lengthscale=ELL, outputscale=1.0, noise=0.01, constant=0.2)


def _data(n: int = 25, d: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(6 * X[:, :1]) + X[:, 1:2] ** 2
    return X, Y


def _kernel(name: str) -> GPKernel:
    k: GPKernel = RBFKernel(ard_num_dims=2) if name == "rbf" else MaternKernel(nu=2.5, ard_num_dims=2)
    k.lengthscale = ELL
    return k.to(torch.float64)


def _exact_gp(kernel: str, X: torch.Tensor, y: torch.Tensor,
              Xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The GP posterior (standardised units) with ``FIXED``'s hyperparameters: mean, covariance."""
    k = _kernel(kernel)
    with torch.no_grad():
        K = k(X).to_dense() + FIXED.noise * torch.eye(X.shape[0], dtype=X.dtype)
        Ks, Kss = k(Xs, X).to_dense(), k(Xs).to_dense()
    L = torch.linalg.cholesky(K)
    mean = FIXED.constant + Ks @ torch.cholesky_solve((y - FIXED.constant)[:, None], L).squeeze(-1)
    V = torch.linalg.solve_triangular(L, Ks.T, upper=False)
    return mean, Kss - V.T @ V


def _standardised(model: RFFNetwork, Y: torch.Tensor) -> torch.Tensor:
    return model.warp.transform(Y).squeeze(-1)


@pytest.mark.parametrize("sampling", ["iid", "sobol"])
@pytest.mark.parametrize("kernel", ["rbf", "matern52"])
def test_wide_network_matches_the_exact_gp(kernel: Kernel, sampling: Sampling) -> None:
    """(a) With m = 4096 and fixed hyperparameters, posterior mean and covariance ~ the GP's."""
    X, Y = _data()
    model = RFFNetwork(n_features=4096, kernel=kernel, sampling=sampling, hypers=FIXED,
                       seed=1).fit(X, Y)
    Xs = torch.rand(6, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    mean, cov = model._latent(Xs)
    gp_mean, gp_cov = _exact_gp(kernel, X, _standardised(model, Y), Xs)
    assert torch.allclose(mean, gp_mean, atol=0.04)
    assert torch.allclose(cov, gp_cov, atol=0.015)
    # a narrow network is measurably further from the GP: the test can tell widths apart
    narrow = RFFNetwork(n_features=8, kernel=kernel, sampling=sampling, hypers=FIXED,
                        seed=1).fit(X, Y)
    assert (narrow._latent(Xs)[1] - gp_cov).abs().max() > (cov - gp_cov).abs().max()


def test_posterior_is_joint_with_the_kernels_correlations() -> None:
    """(b) The q-point posterior is one multivariate normal: its off-diagonal covariances are
    non-zero, match the GP's, and its samples are correlated as they say."""
    X, Y = _data()
    model = RFFNetwork(n_features=4096, hypers=FIXED, seed=2).fit(X, Y)
    Xs = torch.tensor([[0.95, 0.95], [0.90, 0.97], [0.05, 0.95]], dtype=torch.float64)
    post = model.posterior(Xs)
    cov = post.mvn.covariance_matrix  # type: ignore[attr-defined]
    a = model.warp.s1 * model.warp.s2
    _, gp_cov = _exact_gp("rbf", X, _standardised(model, Y), Xs)
    assert torch.allclose(cov, gp_cov * a**2, atol=0.05 * a**2)
    assert cov[0, 1] > 0.5 * math.sqrt(cov[0, 0] * cov[1, 1])  # near points: correlated
    samples = post.rsample(torch.Size([4000])).squeeze(-1)  # 4000 x 3
    emp = torch.corrcoef(samples.T)
    corr = cov / torch.outer(cov.diagonal().sqrt(), cov.diagonal().sqrt())
    assert torch.allclose(emp, corr, atol=0.06)


def test_evidence_picks_a_short_lengthscale_on_the_input_that_matters() -> None:
    """(c) y depends on x_0 only: the evidence shrinks l_0 and leaves the others long."""
    g = torch.Generator().manual_seed(3)
    X = torch.rand(60, 3, generator=g, dtype=torch.float64)
    Y = torch.sin(8 * X[:, :1])
    ell = RFFNetwork(seed=0).fit(X, Y).hypers.lengthscale  # type: ignore[union-attr]
    assert ell[0] < 0.5 and (ell[1:] > 3 * ell[0]).all()


@pytest.mark.parametrize("n", [10, 80])
def test_log_evidence_is_the_gaussian_log_density_in_both_forms(n: int) -> None:
    """Dual (n < m) and primal (n >= m) forms equal ``log N(r; 0, Phi Phi^T + D)``."""
    g = torch.Generator().manual_seed(0)
    Phi = torch.randn(n, 40, generator=g, dtype=torch.float64) / 5
    r = torch.randn(n, generator=g, dtype=torch.float64)
    noise = 0.1 + torch.rand(n, generator=g, dtype=torch.float64)
    ref = MultivariateNormal(torch.zeros(n, dtype=torch.float64),
                             Phi @ Phi.T + torch.diag(noise)).log_prob(r)
    assert torch.allclose(log_evidence(Phi, r, noise), ref, atol=1e-6)


@pytest.mark.parametrize("n", [10, 80])
def test_log_evidence_gradient_is_the_gaussian_log_densitys_gradient(n: int) -> None:
    """The closed-form gradient of the dual form (and autograd's in the primal) equal autograd
    through ``MultivariateNormal.log_prob`` in ``Phi``, ``r`` and ``noise``."""
    g = torch.Generator().manual_seed(1)
    leaves = [torch.randn(n, 40, generator=g, dtype=torch.float64) / 5,
              torch.randn(n, generator=g, dtype=torch.float64),
              0.1 + torch.rand(n, generator=g, dtype=torch.float64)]
    ours = [t.clone().requires_grad_(True) for t in leaves]
    ref = [t.clone().requires_grad_(True) for t in leaves]
    log_evidence(*ours).backward()  # type: ignore[no-untyped-call]
    Phi, r, noise = ref
    MultivariateNormal(torch.zeros(n, dtype=torch.float64),
                       Phi @ Phi.T + torch.diag(noise)).log_prob(r).backward()
    for a, b in zip(ours, ref, strict=True):
        assert a.grad is not None and b.grad is not None
        assert torch.allclose(a.grad, b.grad, rtol=1e-5, atol=1e-6)  # jitter-level


@pytest.mark.parametrize("n", [10, 80])
def test_posterior_is_bayesian_linear_regression_in_both_forms(n: int) -> None:
    """The read-out's posterior, dual or primal, is ``N(A^-1 Phi^T D^-1 r, A^-1)``."""
    X, Y = _data(n=n)
    Yvar = torch.full_like(Y, 0.05)
    model = RFFNetwork(n_features=40, hypers=FIXED, seed=0).fit(X, Y, Yvar)
    assert model.dual == (n < 40)
    y = _standardised(model, Y)
    noise = FIXED.noise + (Yvar * model.warp.slope(Y) ** 2).squeeze(-1)
    Phi = features(X, model.omega, model.phase, ELL, 1.0)
    A = torch.eye(40, dtype=torch.float64) + Phi.T @ (Phi / noise[:, None])
    w = torch.linalg.solve(A, Phi.T @ ((y - FIXED.constant) / noise))
    Xs = torch.rand(4, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    Ps = features(Xs, model.omega, model.phase, ELL, 1.0)
    mean, cov = model._latent(Xs)
    assert torch.allclose(mean, Ps @ w + FIXED.constant, atol=1e-8)
    assert torch.allclose(cov, Ps @ torch.linalg.solve(A, Ps.T), atol=1e-8)


def test_large_n_fits_hyperparameters_on_a_subsample_and_conditions_on_all() -> None:
    X, Y = _data(n=300)
    model = RFFNetwork(n_features=64, fit_points=50, seed=0).fit(X, Y)
    assert model.fit_info["n_fit"] == 50 and model.fit_info["n"] == 300
    assert not model.dual and model.posterior(X).mean.shape == (300, 1)


def test_conditioning_on_a_subset_avoids_variance_starvation() -> None:
    """With n >> m the finite network's posterior variance collapses below the GP's on the same
    data; a wide network conditioned on ``posterior_points << m`` keeps the GP's variance on
    that subset, and the subset holds the best observations."""
    X, Y = _data(n=300)
    Xs = torch.rand(50, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    narrow = RFFNetwork(n_features=8, hypers=FIXED, seed=0).fit(X, Y)
    wide = RFFNetwork(n_features=2048, posterior_points=40, hypers=FIXED, seed=0).fit(X, Y)
    y = _standardised(narrow, Y)
    gp_all = _exact_gp("rbf", X, y, Xs)[1].diagonal()
    assert (narrow._latent(Xs[:, None, :])[1].squeeze() / gp_all).median() < 0.5
    assert wide.fit_info["n_posterior"] == 40 and wide.fit_info["n"] == 300
    keep = capped_indices(Y, 40, 0.25, 0)
    assert int(Y.argmax()) in keep.tolist()
    gp_sub = _exact_gp("rbf", X[keep], y[keep], Xs)[1].diagonal()
    ratio = wide._latent(Xs[:, None, :])[1].squeeze() / gp_sub
    assert 0.8 < float(ratio.median()) < 1.2


@pytest.mark.parametrize("kernel", ["rbf", "matern52"])
def test_kernel_evidence_is_the_limit_kernels_and_does_not_depend_on_the_draw(
        kernel: Kernel) -> None:
    """``kernel_matrix`` is gpytorch's kernel; ``evidence="kernel"`` fits the same
    hyperparameters whatever the first layer's seed (the network's own evidence does not)."""
    X, Y = _data(n=40)
    with torch.no_grad():
        ref = _kernel(kernel)(X).to_dense()
    assert torch.allclose(kernel_matrix(X, ELL, 1.0, kernel), ref, atol=1e-10)
    fits = [RFFNetwork(n_features=128, kernel=kernel, evidence="kernel", seed=s).fit(X, Y)
            for s in (0, 1)]
    ells = [f.hypers.lengthscale for f in fits]  # type: ignore[union-attr]
    assert torch.allclose(ells[0], ells[1], rtol=1e-6)
    own = [RFFNetwork(n_features=128, kernel=kernel, seed=s).fit(X, Y) for s in (0, 1)]
    assert not torch.allclose(own[0].hypers.lengthscale,  # type: ignore[union-attr]
                              own[1].hypers.lengthscale, rtol=1e-3)  # type: ignore[union-attr]


def test_fit_features_and_posterior_points_are_checked() -> None:
    with pytest.raises(ValueError, match="fit_features"):
        RFFNetwork(n_features=64, fit_features=65)
    with pytest.raises(ValueError, match="posterior_points"):
        RFFNetwork(posterior_points=1)
    with pytest.raises(ValueError, match="sampling='iid'"):
        RFFNetwork(n_features=64, fit_features=32, sampling="sobol")
    with pytest.raises(ValueError, match="evidence"):
        RFFNetwork(evidence="exact")  # type: ignore[arg-type]


def test_sobol_frequencies_are_seeded_and_leave_the_global_rng_alone() -> None:
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = draw_frequencies(64, 3, "matern52", torch.Generator().manual_seed(1), torch.float64, "sobol")
    b = draw_frequencies(64, 3, "matern52", torch.Generator().manual_seed(1), torch.float64, "sobol")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(a[0][:32], a[0][32:])  # each frequency twice: a cos and a sin unit


def test_warped_posterior_maps_samples_back_to_the_callers_units() -> None:
    X, Y = _data(n=30)
    Y = Y.exp() * 100  # skewed, large units
    model = RFFNetwork(output_warp=True, seed=0).fit(X, Y)
    post = model.posterior(X[:5])
    samples = post.rsample(torch.Size([64]))
    assert samples.shape == (64, 5, 1)
    assert (post.mean - Y[:5]).abs().max() < 0.2 * (Y.max() - Y.min())


@pytest.mark.parametrize("n", [25, 60])  # dual (n < m = 40) and primal
def test_path_samples_are_draws_of_the_exact_read_out_posterior(n: int) -> None:
    """``path_samples``: the sampled networks' mean and covariance at query points converge to
    the exact Gaussian posterior's (4,000 draws: Monte Carlo error ~ 1.6% of a standard
    deviation), in both forms, with known noise; the samples are seeded."""
    X, Y = _data(n=n)
    Yvar = torch.full_like(Y, 0.05)
    exact = RFFNetwork(n_features=40, hypers=FIXED, seed=0).fit(X, Y, Yvar)
    paths = RFFNetwork(n_features=40, hypers=FIXED, seed=0, path_samples=4000).fit(X, Y, Yvar)
    assert paths.dual == exact.dual == (n < 40)
    Xs = torch.rand(1, 3, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    post = exact.posterior(Xs)
    vals = paths.posterior(Xs).values.squeeze(-1)[0]  # type: ignore[attr-defined]  # S x q
    assert vals.shape == (4000, 3)
    sd = post.variance.sqrt().reshape(-1)
    assert ((vals.mean(0) - post.mean.reshape(-1)).abs() < 0.06 * sd).all()
    emp = torch.cov(vals.T)
    cov = post.mvn.covariance_matrix[0]  # type: ignore[attr-defined]
    assert torch.allclose(emp, cov, atol=0.08 * float(sd.max() ** 2))
    again = RFFNetwork(n_features=40, hypers=FIXED, seed=0, path_samples=4000).fit(X, Y, Yvar)
    assert torch.equal(again.posterior(Xs).values, paths.posterior(Xs).values)  # type: ignore[attr-defined]


def test_path_samples_give_an_ensemble_posterior_that_propose_batch_samples_jointly() -> None:
    """Each sampled network is one function across the ``q`` points: the batch acquisition sees
    an ``EnsemblePosterior`` whose members differ, and proposes ``q`` distinct points."""
    from botorch.posteriors.ensemble import EnsemblePosterior

    from acquisition import ProposeOptions, propose_batch

    X, Y = _data(n=30)
    model = RFFNetwork(n_features=64, path_samples=32, max_iter=20, seed=0).fit(X, Y)
    post = model.posterior(torch.rand(2, 4, 2, dtype=torch.float64))
    assert isinstance(post, EnsemblePosterior) and post.values.shape == (2, 32, 4, 1)
    assert post.values.std(dim=1).min() > 0
    cand = propose_batch(model, q=4, seed=0,
                         options=ProposeOptions(num_restarts=2, raw_samples=32))
    assert cand.shape == (4, 2) and len({tuple(r) for r in cand.tolist()}) == 4
    with pytest.raises(ValueError, match="path_samples"):
        RFFNetwork(path_samples=1)


def test_path_above_keeps_the_exact_posterior_up_to_its_size() -> None:
    """``path_above``: up to that many conditioning points the posterior is the exact Gaussian,
    identical to the model without ``path_samples``; above it, sampled networks."""
    from botorch.posteriors.ensemble import EnsemblePosterior

    Xs = torch.rand(1, 3, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    X, Y = _data(n=30)
    plain = RFFNetwork(n_features=40, hypers=FIXED, seed=0).fit(X, Y)
    hybrid = RFFNetwork(n_features=40, hypers=FIXED, seed=0, path_samples=16,
                        path_above=30).fit(X, Y)
    assert hybrid.w_samples is None
    assert torch.equal(hybrid.posterior(Xs).mean, plain.posterior(Xs).mean)
    X, Y = _data(n=31)
    hybrid.fit(X, Y)
    assert isinstance(hybrid.posterior(Xs), EnsemblePosterior)


def test_a_failed_step_goes_back_to_the_best_point_evaluated() -> None:
    """``step_keeping_best``: a loss that raises past x = 1.2 (as ``_chol`` does on a non-PD
    matrix) leaves x at the best finite point evaluated, not at the failed trial point."""
    x = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    seen: list[tuple[float, float]] = []

    def loss() -> torch.Tensor:
        if float(x.detach()) > 1.2:
            raise RuntimeError("RFF evidence matrix is not positive definite")
        value = (x - 2.0).pow(2).sum()
        seen.append((float(x.detach()), float(value.detach())))
        return value

    opt = torch.optim.LBFGS([x], max_iter=50, line_search_fn="strong_wolfe")
    assert step_keeping_best(opt, loss, [x]) is True
    best_x, best_value = min(seen, key=lambda s: s[1])
    assert float(x.detach()) == best_x <= 1.2 and best_value < 4.0  # moved towards 2
    y = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([y], max_iter=50, line_search_fn="strong_wolfe")
    assert step_keeping_best(opt, lambda: (y - 2.0).pow(2).sum(), [y]) is False
    assert float(y.detach()) == pytest.approx(2.0)


def test_fit_survives_a_non_pd_step_and_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hyperparameter run whose line search hits a non-PD matrix fits from the best point
    before it (the bench saw ``rff-kev`` fall back to random proposals here) and says so."""
    X, Y = _data()
    calls, bad = [0], []
    real = RFFNetwork._log_map

    def flaky(self: RFFNetwork, *args: torch.Tensor) -> torch.Tensor:
        """Not PD at the 4th point evaluated, wherever it is evaluated again."""
        calls[0] += 1
        raw_l = args[3].detach().clone()  # (X, y, extra, raw_l, raw_n, c, log_s2)
        if calls[0] == 4:
            bad.append(raw_l)
        if any(torch.equal(raw_l, b) for b in bad):
            raise RuntimeError("RFF evidence matrix is not positive definite")
        return real(self, *args)

    monkeypatch.setattr(RFFNetwork, "_log_map", flaky)
    model = RFFNetwork(seed=0, n_features=128, evidence="kernel").fit(X, Y)
    assert model.fit_info["failed_steps"] == 1 and len(model.fit_info["warnings"]) == 1
    assert math.isfinite(model.fit_info["log_map"])
    assert torch.isfinite(model.posterior(X[:3]).mean).all()
    monkeypatch.setattr(RFFNetwork, "_log_map", real)
    clean = RFFNetwork(seed=0, n_features=128, evidence="kernel").fit(X, Y)
    assert clean.fit_info["failed_steps"] == 0 and clean.fit_info["warnings"] == []
