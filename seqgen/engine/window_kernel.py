"""The first layer and the soft window as one recurrence, with a hand-written backward.

Graves 2013 section 5.1: layer 1 reads the window of the step before, so it cannot use the fused
``nn.LSTM`` kernel, and an autograd graph of an ``nn.LSTMCell`` loop records some 30 nodes a
step. Here the input part of the gates comes in computed for all T at once (one matrix product,
by the caller); per step, forward does one product of [w_{t-1}, h_{t-1}] with the recurrent
weights, the LSTM cell (eq. 7-11) and the window (eq. 46-51). Backward precomputes, for blocks
of steps at once, every factor that depends on forward values only, so that a step is one
window product, one gate product and a few element-wise operations; the weight gradients are
one matrix product over all T after the loop. Tensors are time-major, (T, B, .), so a step's
slice is contiguous. ``tests/test_window_fast.py`` checks it against the plain formulation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

CLAMP = 10.0  # the window's (a, b, k) hats are clamped to at most 10 before exp (exp(10) ~ 2e4)
FLOOR = 80.0  # -beta (kappa - u)^2 floored at -80: exp(-80) ~ 2e-35 is still a normal float, and
# exp's underflow path below it costs 10 times more; phi there is 0 to float precision anyway
BLOCK = 16  # steps whose backward factors are computed at once (bounds their memory)


class Loop(NamedTuple):
    """What the forward loop leaves: outputs, and the buffers backward reads."""

    xr: torch.Tensor  # (T + 1, B, V + H) rows [w_{t-1}, h_{t-1}] for t = 0..T (row T: the last)
    acts: torch.Tensor  # (T, B, 4H) i, f, sigmoid(2 g_hat) = (g + 1) / 2, o
    cs: torch.Tensor  # (T + 1, B, H) cell states, c_0 first
    tcs: torch.Tensor  # (T, B, H) tanh(c_t)
    raw: torch.Tensor  # (T, B, 3K) window parameters before the clamp (eq. 48)
    ewin: torch.Tensor  # (T, B, 3K) alpha, beta, exp(k_hat) (eq. 49-51)
    kappas: torch.Tensor  # (T, B, K) kappa_t (eq. 51)
    phi: torch.Tensor  # (B, U) the last step's window weights (eq. 46)


def _doubled_g(m: torch.Tensor, H: int) -> torch.Tensor:
    """A copy with the g gate's columns doubled: tanh(x) = 2 sigmoid(2x) - 1, so one sigmoid
    over all four gates serves (torch's tanh costs three sigmoids here); gx's g columns are
    added a second time per step."""
    out = m.clone()
    out[..., 2 * H:3 * H] *= 2
    return out


def run_loop(acts: torch.Tensor, w2: torch.Tensor, w_win: torch.Tensor, b_win: torch.Tensor,
             h0: torch.Tensor, c0: torch.Tensor, kappa0: torch.Tensor, w0: torch.Tensor,
             idx: torch.Tensor, umask: torch.Tensor) -> Loop:
    """acts (T, B, 4H): the input part of the gates (both biases in, g's doubled), overwritten
    with the activations; w2 (V + H, 4H) the recurrent weights of [w, h] (g's doubled);
    w_win (H, 3K), b_win (3K,); idx (B, U) character index of each position (0 where padded),
    umask (B, U) 1 on characters, 0 on padding."""
    T, B, G = acts.shape
    H, V, K = G // 4, w0.shape[1], kappa0.shape[1]
    xr = acts.new_empty(T + 1, B, V + H)  # (T + 1, B, V + H)
    xr[0, :, :V], xr[0, :, V:] = w0, h0
    cs = acts.new_empty(T + 1, B, H)  # (T + 1, B, H)
    cs[0] = c0
    lp = Loop(xr, acts, cs, acts.new_empty(T, B, H), acts.new_empty(T, B, 3 * K),
              acts.new_empty(T, B, 3 * K), acts.new_empty(T, B, K), umask)
    u = torch.arange(1, idx.shape[1] + 1, dtype=acts.dtype, device=acts.device)  # (U,) 1..U
    a, e = acts, lp.ewin
    # every step's views made at once (a Python slice costs about as much as a small kernel)
    views = (xr[:-1], a, a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:],
             cs[:-1], cs[1:], lp.tcs, xr[1:, :, V:], xr[1:, :, :V], lp.raw, e,
             e[..., None, :K], e[..., K:2 * K, None], e[..., 2 * K:], lp.kappas,
             lp.kappas[..., None])
    kappa, phi = kappa0, umask
    for (x, a, i, f, sg, o, cp, c, tc, h, w, r, e, al, be, dk, kappa_out,
         kappa3) in zip(*(v.unbind(0) for v in views), strict=True):
        a.addmm_(x, w2).sigmoid_()  # (B, 4H) eq. 7-10: i, f, sigmoid(2 g_hat), o
        torch.mul(f, cp, out=c).sub_(i).addcmul_(i, sg, value=2.0)  # eq. 9: f c + i g
        torch.mul(o, torch.tanh(c, out=tc), out=h)  # (B, H) eq. 11
        # the window, eq. 46-51: (B, 3K) alpha, beta, exp(k_hat); w_t by index, eq. 47
        torch.exp(torch.addmm(b_win, h, w_win, out=r).clamp(max=CLAMP), out=e)
        kappa = torch.add(kappa, dk, out=kappa_out)  # (B, K) eq. 51
        arg = (kappa3 - u).square_().mul_(be)  # (B, K, U) beta (kappa - u)^2
        phi = torch.bmm(al, arg.clamp_(max=FLOOR).neg_().exp_()).squeeze(1).mul_(umask)
        w.zero_().scatter_add_(1, idx, phi)  # (B, V) sum_u phi(t, u) c_u
    return lp._replace(phi=phi)


def _cell_factors(lp: Loop, t0: int, t1: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For steps t0..t1-1: P = dh/dc = o (1 - tanh(c)^2) (n, B, H), and Q (n, B, 4H), the
    factors that turn dL/dc (i, f, g) and dL/dh (o) into the gates' pre-activation gradients."""
    a, tc, cp = lp.acts[t0:t1], lp.tcs[t0:t1], lp.cs[t0:t1]  # (n, B, 4H), (n, B, H), c_{t-1}
    H = tc.shape[2]
    i, sg, o = a[..., :H], a[..., 2 * H:3 * H], a[..., 3 * H:]  # (n, B, H)
    q = torch.mul(a, 1 - a)  # (n, B, 4H) sigmoid' of every gate (g's: tanh' / 4)
    q[..., :H].mul_(sg * 2 - 1)  # dc -> d i_hat: g i (1 - i)
    q[..., H:2 * H].mul_(cp)  # dc -> d f_hat: c_{t-1} f (1 - f)
    q[..., 2 * H:3 * H].mul_(i).mul_(4.0)  # dc -> d g_hat: i (1 - g^2)
    q[..., 3 * H:].mul_(tc)  # dh -> d o_hat: tanh(c) o (1 - o)
    return torch.mul(tc, tc).neg_().add_(1).mul_(o), q


def _window_factors(lp: Loop, t0: int, t1: int, u: torch.Tensor,
                    umask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For steps t0..t1-1: M (n, B, 3K, U) with M @ dL/dphi = (d a_hat, d b_hat, dL/dkappa's
    local part), the clamp and the text's padding folded in; and exp(k_hat) where the clamp
    passes (n, B, K)."""
    e, kap = lp.ewin[t0:t1], lp.kappas[t0:t1]  # (n, B, 3K), (n, B, K)
    K = kap.shape[2]
    alpha, beta = e[..., :K, None], e[..., K:2 * K, None]  # (n, B, K, 1)
    passes = (lp.raw[t0:t1] <= CLAMP).to(e.dtype)  # (n, B, 3K)
    d = kap[..., None] - u  # (n, B, K, U) kappa - u
    ek = (d * d).mul_(beta).clamp_(max=FLOOR).neg_().exp_()  # (n, B, K, U) as in forward
    aek = ek.mul_(alpha).mul_(umask[:, None, :])  # (n, B, K, U) alpha exp(.), padding 0
    m = torch.empty(*aek.shape[:2], 3 * K, aek.shape[3], dtype=e.dtype, device=e.device)
    torch.mul(aek, passes[..., :K, None], out=m[:, :, :K])  # d phi / d a_hat
    bd = aek.mul_(d).mul_(beta)  # (n, B, K, U) alpha beta d exp(.)
    torch.mul(bd, -2.0, out=m[:, :, 2 * K:])  # d phi / d kappa
    torch.mul(bd.mul_(d), passes[..., K:2 * K, None], out=m[:, :, K:2 * K]).neg_()  # / d b_hat
    return m, e[..., 2 * K:] * passes[..., 2 * K:]


def loop_backward(lp: Loop, w_rec: torch.Tensor, w_win: torch.Tensor, idx: torch.Tensor,
                  umask: torch.Tensor, g_h: torch.Tensor, g_w: torch.Tensor,
                  g_c: torch.Tensor, g_kappa: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Back through time: g_h (T, B, H) and g_w (T, B, V) (views of any layout) come from
    above (layers, head), g_c and g_kappa (B, .) from the final state. Returns the gradients
    of gx (T, B, 4H), w_rec, w_win, b_win, h0, c0, kappa0 and w0."""
    T, B, G = lp.acts.shape
    H, K, V = G // 4, lp.kappas.shape[2], g_w.shape[2]
    u = torch.arange(1, idx.shape[1] + 1, dtype=g_h.dtype, device=g_h.device)  # (U,)
    w_rec_t, w_win_t = w_rec.t(), w_win.t()  # (4H, V + H), (3K, H)
    prev = g_h.new_zeros(T, B, V + H)  # (T, B, V + H) row t: dL/d[w_t-1, h_t-1] from above
    prev[1:, :, :V], prev[1:, :, V:] = g_w[:-1], g_h[:-1]
    dx = torch.cat([g_w[-1], g_h[-1]], 1)  # (B, V + H) dL/d[w_t, h_t], t = T - 1
    dgx, dwin = g_h.new_empty(T, B, G), g_h.new_empty(T, B, 3 * K)  # gate, window hat grads
    dc, dkap = g_c.clone(), g_kappa.clone()  # (B, H), (B, K)
    for t0 in range((T - 1) // BLOCK * BLOCK, -1, -BLOCK):
        t1 = min(t0 + BLOCK, T)
        p, q = _cell_factors(lp, t0, t1)
        m, ekm = _window_factors(lp, t0, t1, u, umask)
        dg, r = dgx[t0:t1], dwin[t0:t1]
        views = (m, ekm, p, q[..., :H], q[..., H:2 * H], q[..., 2 * H:3 * H], q[..., 3 * H:],
                 dg, dg[..., :H], dg[..., H:2 * H], dg[..., 2 * H:3 * H], dg[..., 3 * H:], r,
                 r[..., None], r[..., 2 * K:], lp.acts[t0:t1, :, H:2 * H], prev[t0:t1])
        for (mj, ekj, pj, qi, qf, qg, qo, dgj, di, df, dgg, do, rj, r3, rk, f,
             prevj) in reversed(list(zip(*(v.unbind(0) for v in views), strict=True))):
            torch.bmm(mj, dx[:, :V].gather(1, idx)[:, :, None], out=r3)  # (B, 3K, 1)
            dkap.add_(rk)  # dL/dkappa_t: kappa_{t+1} = kappa_t + exp(k_hat_{t+1})
            torch.mul(dkap, ekj, out=rk)  # d k_hat
            gh = torch.addmm(dx[:, V:], rj, w_win_t)  # (B, H) dL/dh_t
            dc.addcmul_(gh, pj)  # (B, H) dL/dc_t
            torch.mul(dc, qi, out=di)  # the gates' pre-activations (B, H) each
            torch.mul(dc, qf, out=df)
            torch.mul(dc, qg, out=dgg)
            torch.mul(gh, qo, out=do)
            dc.mul_(f)  # dL/dc_{t-1} = dL/dc_t f_t
            dx = torch.addmm(prevj, dgj, w_rec_t)  # (B, V + H) dL/d[w_t-1, h_t-1]
    d_rec = lp.xr[:T].reshape(T * B, V + H).t() @ dgx.reshape(T * B, G)  # (V + H, 4H)
    d_win = lp.xr[1:, :, V:].reshape(T * B, H).t() @ dwin.reshape(T * B, 3 * K)  # (H, 3K)
    return dgx, d_rec, d_win, dwin.sum((0, 1)), dx[:, V:], dc, dkap, dx[:, :V]


class WindowRecurrence(torch.autograd.Function):
    """Layer 1 and the window over T steps, from the embedded input emb (T, B, E) and layer
    1's weights: w_x (E, 4H) and b (4H,) its input part and both biases, w_rec (V + H, 4H) its
    recurrent part over [w, h], then the window's w_win (H, 3K), b_win. Outputs hs (B, T, H),
    ws (B, T, V), c_T, kappa_T (differentiable) and phi_T (B, U), which is not."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)  # the loop in fp32
    def forward(ctx: Any, emb: torch.Tensor, w_x: torch.Tensor, b: torch.Tensor,
                w_rec: torch.Tensor, w_win: torch.Tensor, b_win: torch.Tensor,
                h0: torch.Tensor, c0: torch.Tensor, kappa0: torch.Tensor, w0: torch.Tensor,
                idx: torch.Tensor, umask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        T, B, E = emb.shape
        H, V = w_rec.shape[1] // 4, w0.shape[1]
        flat = emb.reshape(T * B, E)  # (T B, E)
        with torch.autocast(emb.device.type, enabled=False):  # the recurrence in one dtype
            # the input part of the gates for all T in one product; it becomes the activations
            acts = torch.addmm(_doubled_g(b, H), flat, _doubled_g(w_x, H)).view(T, B, 4 * H)
            lp = run_loop(acts, _doubled_g(w_rec, H), w_win, b_win, h0, c0, kappa0, w0, idx,
                          umask)
        ctx.save_for_backward(flat, w_x, w_rec, w_win, idx, umask, *lp)
        ctx.mark_non_differentiable(lp.phi)
        hs = lp.xr[1:, :, V:].transpose(0, 1).contiguous()  # (B, T, H)
        ws = lp.xr[1:, :, :V].transpose(0, 1).contiguous()  # (B, T, V)
        return hs, ws, lp.cs[-1].clone(), lp.kappas[-1].clone(), lp.phi

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, *grads: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
        flat, w_x, w_rec, w_win, idx, umask, *rest = ctx.saved_tensors
        lp = Loop(*rest)
        T, B, G = lp.acts.shape
        V = lp.xr.shape[2] - lp.cs.shape[2]
        refs = (lp.xr[1:, :, V:], lp.xr[1:, :, :V], lp.cs[-1], lp.kappas[-1])
        g_h, g_w, g_c, g_k = (torch.zeros_like(r) if g is None else
                              g.transpose(0, 1) if g.dim() == 3 else g  # time-major views
                              for g, r in zip(grads[:4], refs, strict=True))
        with torch.autocast(g_h.device.type, enabled=False):
            dgx, *rest_grads = loop_backward(lp, w_rec, w_win, idx, umask, g_h, g_w, g_c, g_k)
            d2 = dgx.view(T * B, G)  # (T B, 4H)
            d_emb = (d2 @ w_x.t()).view(T, B, -1)  # (T, B, E)
            d_wx, d_b = flat.t() @ d2, d2.sum(0)  # (E, 4H), (4H,)
        return (d_emb, d_wx, d_b, *rest_grads, None, None)
