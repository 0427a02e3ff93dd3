"""rnnlab's own float32 GEMM for CPUs with AVX-512: the loops' per-step product and the
layers' whole-sequence products where the BLAS at hand runs narrower vectors
(`RNNLAB_BLAS=avx512` in rnnlab.kernels._blas; rnnlab._linalg).

Why: an environment may hold OpenBLAS to its AVX2 kernels on an AVX-512 CPU
(`OPENBLAS_CORETYPE=Haswell` on this project's Zen 5 machine) while PyTorch's oneDNN
runs AVX-512, and OpenBLAS re-packs W_hh on every per-step call. Measured there, one
thread, 100-2,000 calls from a compiled loop, GFLOP/s against NumPy's OpenBLAS:
20×100×400 240/107, 20×400×100 200/101, 64×32×128 255/117, 50×128×512 228/109,
50×512×2048 158/106, 128×256×1024 199/123 (`benchmarks/README.md`, issue 16, sixth
session).

The product C (m, n) = alpha A (m, k) B (k, n) + beta C, every operand read through
strides (A[i, p] = A[i·sa_i + p·sa_p], so a transposed operand costs nothing to
describe), in blocks of MC rows and KC steps of k, and column panels of NR = 32:

    TILE      MR × 32 of C in 2·MR vector registers of 16 floats (MR = 8, 4, 2 or 1
              rows: m = 8q + the rest in 4, 2, 1, no row computed twice); each step of
              k broadcasts one A value per row and does two fused multiply-adds with
              the panel's row of B. A narrower last panel masks the columns past n off
              (one vector when 16 or fewer): nothing past C's or B's edge is touched.
              Written in LLVM IR (`_tile`), the loop over k included.
    DIRECT    a B with unit column stride is read where it lies (row stride sb_p), no
              copy. Per step of an RNN, B is W_hh, and copying it is what costs
              OpenBLAS most at small m.
    PACKED B  a B with strided columns, or alpha != 1: each panel's KC rows copied to a
              stack buffer (alpha folded in), the tile reading it.
    PANELS    a B laid out by `panels` (W_hhᵀ in the loops): each panel's k rows of NR
              floats one after the other, so a tile streams it from memory in order.
              A panel of a row-major B walks down rows a row stride apart, each a
              new page when the rows are long: with 8 rows of h_t and H = 1,024,
              (8 × 1,024) @ (1,024 × 4,096) ran at 193 GFLOP/s read in place, 247
              in panels; (50 × 512) @ (512 × 2,048) 235 and 254 (one thread, Zen 5).
    PACKED A  an A with strided rows (Dᵀ in a weight gradient) and more than one panel:
              the block's MC × KC copied into tiles of MR rows, each step's MR values
              side by side (the tiles 64 bytes apart: `_pack_a`), once for all panels.

Each element of C is one chain of fused multiply-adds per KC block, the blocks added
in order, whatever the rows around it: a row's bits do not depend on m or on where the
row blocks of the threaded loops fall. On a CPU without AVX-512 the same code runs
(LLVM splits each vector) but slower than the BLAS: rnnlab.kernels._blas selects it
only where `has_avx512()`.

One compiled unit, the BLAS-shaped cfunc `fortran_sgemm()`, holds it all (the helpers
inlined at Numba's level, but `_pack_a`): the loops call it by address, Python by
ctypes (`sgemm`). Compiled on first use and cached by Numba: ~1.1 s on a clean cache.
"""

from __future__ import annotations

import ctypes
from functools import cache

import numpy as np
from llvmlite import binding as ll
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

NR = 32  # columns of a panel: two vectors of 16 float32
MR = 8  # rows of the largest tile: 16 accumulators
KC = 256  # rows of B per packed block: 32 KiB on the stack
MC = 128  # rows of A per block
PAD_EVERY, PAD = 2048, 64  # bytes: row strides that are multiples of PAD_EVERY get PAD more
TILE_PAD = 16  # floats between PACKED A's tiles (64 bytes)
TB, MIN_TRANSPOSE = 16, 1 << 16  # `contiguous`: block side, and the elements from which it blocks
_V = ir.VectorType(ir.FloatType(), 16)
_I64 = ir.IntType(64)


def pads(row_bytes: int) -> bool:
    """Whether `padded` spaces out rows of this many bytes (a multiple of 2 KiB)."""
    return row_bytes > 0 and row_bytes % PAD_EVERY == 0


def padded(a: np.ndarray, dtype=None) -> np.ndarray:
    """A copy of the 2-D `a` (in `dtype`) with contiguous rows, for a B read in place
    (DIRECT): where a row is a multiple of 2 KiB, the rows lie 64 bytes further apart.
    A panel walks down B's rows, and at a stride of 2, 4 or 8 KiB all its rows fall in
    the same few cache sets: 50×512×2048 ran at 158 GFLOP/s, 246 padded; 50×2048×512
    222 and 250 (one thread, Zen 5)."""
    dtype = np.dtype(a.dtype if dtype is None else dtype)
    rows, n = a.shape
    if not pads(n * dtype.itemsize):
        return contiguous(a, dtype)
    out = np.empty((rows, n + PAD // dtype.itemsize), dtype)[:, :n]
    _copy(a, out)
    return out


def contiguous(a: np.ndarray, dtype=None) -> np.ndarray:
    """np.ascontiguousarray(a, dtype) for a 2-D `a`, a large transposed one (W_ihᵀ of an
    input projection, W_hhᵀ of a loop over one sequence) copied by `_transpose_into`."""
    dtype = np.dtype(a.dtype if dtype is None else dtype)
    if a.flags.c_contiguous and a.dtype == dtype:
        return a
    out = np.empty(a.shape, dtype)
    _copy(a, out)
    return out


def _copy(a: np.ndarray, out: np.ndarray) -> None:
    """out[...] = a; by blocks where `a` is a large transposed array of out's dtype."""
    if a.size >= MIN_TRANSPOSE and a.flags.f_contiguous and a.dtype == out.dtype:
        _transpose_into(a.T, out)
    else:
        out[...] = a


@njit(cache=True, nogil=True)
def _transpose_into(a, out):
    """out[j, i] = a[i, j], in blocks of TB × TB. NumPy copies a transposed array one
    column of the source at a time: a (4,096, 1,024) float32 W_hh took 25.5 ms, 4.2 by
    blocks; (2,048, 512) 2.7 and 0.6 ms (one thread, Zen 5)."""
    rows, cols = a.shape
    for i0 in range(0, rows, TB):
        i1 = min(i0 + TB, rows)
        for j0 in range(0, cols, TB):
            j1 = min(j0 + TB, cols)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    out[j, i] = a[i, j]


def panels(a: np.ndarray) -> np.ndarray:
    """The 2-D `a` (k, n) as float32 column panels (PANELS): (⌈n / NR⌉, k, NR), panel q
    holding columns q·NR .. q·NR + NR - 1 row after row, zeros past n."""
    k, n = a.shape
    out = np.empty((-(-n // NR), k, NR), np.float32)
    transposed = a.flags.f_contiguous and not a.flags.c_contiguous  # W_hhᵀ of a forward
    source = np.ascontiguousarray(a.T if transposed else a, np.float32)
    _to_panels(source, transposed, out)
    return out


@njit(cache=True, nogil=True)
def _to_panels(a, transposed, out):
    """out[q, p, j] = A[p, q·NR + j] (0 past A's columns) for A = aᵀ if transposed else
    a (a C-contiguous: one compiled version), reading a along its rows."""
    k = out.shape[1]
    n = a.shape[0] if transposed else a.shape[1]
    for q in range(out.shape[0]):
        j0 = q * NR
        nc = min(NR, n - j0)
        if transposed:
            for j in range(nc):
                for p in range(k):
                    out[q, p, j] = a[j0 + j, p]
        else:
            for p in range(k):
                for j in range(nc):
                    out[q, p, j] = a[p, j0 + j]
        for p in range(k):
            for j in range(nc, NR):
                out[q, p, j] = 0.0


def column_fill(n: int) -> float:
    """The share of the columns the tiles compute that are C's, for n columns: panels of
    32, the last one 16 or 32 wide (masked)."""
    full, rest = divmod(n, NR)
    return n / (NR * full + (0 if rest == 0 else 16 if rest <= 16 else NR))


def has_avx512() -> bool:
    """Whether this CPU runs 512-bit float vectors (AVX-512F); False where LLVM cannot
    tell (it raises RuntimeError on some hosts)."""
    try:
        return bool(ll.get_host_cpu_features().get("avx512f", False))
    except RuntimeError:
        return False


@intrinsic
def _tile(typingctx, A, a_off, sa_i, sa_p, B, b_off, ldb, k, D, d_off, ldd, add, mr, nc):
    """D[r, :nc] (+)= Σ_p A[a_off + r·sa_i + p·sa_p] B[b_off + p·ldb, :nc] for r < mr,
    mr in (8, 4, 2, 1), 0 < nc <= 32; rows of B and D contiguous (D's row stride ldd);
    add: D += rather than D =. One unrolled body per mr and vector count (nc <= 16: one),
    chosen at run time; the columns past nc masked off (never read or written)."""
    n = types.intp
    sig = types.void(A, n, n, n, B, n, n, n, D, n, n, types.boolean, n, n)

    def codegen(context, builder, sig, args):
        A_, a_off, sa_i, sa_p, B_, b_off, ldb, k, D_, d_off, ldd, add, mr, nc = args
        a, b, d = (make_array(sig.args[i])(context, builder, v).data
                   for i, v in ((0, A_), (4, B_), (8, D_)))
        lanes = ir.Constant(ir.VectorType(_I64, 16), list(range(16)))
        for low, high in ((32, 32), (17, 31), (1, 16)):  # full panels: no masks
            nv = 1 if high == 16 else 2
            masks = [None] * nv if low == 32 else [builder.icmp_signed("<", lanes, _splat(
                builder, builder.sub(nc, _const(16 * h)))) for h in range(nv)]
            for rows in (8, 4, 2, 1):
                chosen = builder.and_(builder.icmp_signed("==", mr, _const(rows)),
                                      builder.and_(builder.icmp_signed(">=", nc, _const(low)),
                                                   builder.icmp_signed("<=", nc, _const(high))))
                with builder.if_then(chosen):
                    _tile_body(builder, rows, masks, a, a_off, sa_i, sa_p, b, b_off, ldb, k,
                               d, d_off, ldd, add)
        return context.get_dummy_value()

    return sig, codegen


def _const(value: int):
    return ir.Constant(_I64, value)


def _splat(builder, value):
    """A (16,) vector of one scalar."""
    one = builder.insert_element(ir.Constant(ir.VectorType(value.type, 16), ir.Undefined),
                                 value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, ir.Constant(one.type, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), 16), None))


def _tile_body(builder, mr, masks, a, a_off, sa_i, sa_p, b, b_off, ldb, k, d, d_off, ldd, add):
    """The IR of one tile of mr rows and len(masks) vectors: the accumulators, the loop
    over k, the stores."""
    module, i32, vec = builder.module, ir.IntType(32), _V.as_pointer()
    mask_t = ir.VectorType(ir.IntType(1), 16)
    fma = cgutils.get_or_insert_function(module, ir.FunctionType(_V, [_V] * 3), "llvm.fma.v16f32")
    masked_load = cgutils.get_or_insert_function(
        module, ir.FunctionType(_V, [vec, i32, mask_t, _V]), "llvm.masked.load.v16f32.p0")
    masked_store = cgutils.get_or_insert_function(
        module, ir.FunctionType(ir.VoidType(), [_V, vec, i32, mask_t]), "llvm.masked.store.v16f32.p0")
    align, zero = ir.Constant(i32, 4), ir.Constant(_V, None)

    def load(ptr, mask):  # mask None: all 16 lanes
        if mask is None:
            return builder.load(ptr, align=4)
        return builder.call(masked_load, [ptr, align, mask, zero])

    def store(value, ptr, mask):
        if mask is None:
            builder.store(value, ptr, align=4)
        else:
            builder.call(masked_store, [value, ptr, align, mask])

    def at(ptr, *offsets):
        total = offsets[0]
        for offset in offsets[1:]:
            total = builder.add(total, offset)
        return builder.gep(ptr, [total])

    def vector(ptr, h):  # the h-th 16 floats from ptr
        return builder.bitcast(at(ptr, _const(16 * h)), vec)

    rows = [at(a, a_off, builder.mul(_const(r), sa_i)) for r in range(mr)]
    acc = [[cgutils.alloca_once_value(builder, zero) for _ in masks]
           for _ in range(mr)]  # (mr, nv) vectors, in registers after mem2reg
    with cgutils.for_range(builder, k) as loop:
        p = loop.index
        b_row = at(b, b_off, builder.mul(p, ldb))
        bv = [load(vector(b_row, h), m) for h, m in enumerate(masks)]
        ap = builder.mul(p, sa_p)
        for r in range(mr):
            x = _splat(builder, builder.load(at(rows[r], ap)))  # A[r, p] in all 16 lanes
            for h in range(len(masks)):
                builder.store(builder.call(fma, [x, bv[h], builder.load(acc[r][h])]), acc[r][h])
    with builder.if_else(add) as (adding, putting):
        for branch, plus in ((adding, True), (putting, False)):
            with branch:
                for r in range(mr):
                    d_row = at(d, d_off, builder.mul(_const(r), ldd))
                    for h, m in enumerate(masks):
                        q, v = vector(d_row, h), builder.load(acc[r][h])
                        if plus:
                            v = builder.fadd(load(q, m), v)
                        store(v, q, m)


@intrinsic
def _move8(typingctx, src, s_off, dst, d_off):
    """dst[d_off : d_off + 8] = src[s_off : s_off + 8] as one vector load and store (two
    float32 arrays: LLVM, unable to prove them apart, kept such copies scalar)."""
    n = types.intp
    sig = types.void(src, n, dst, n)

    def codegen(context, builder, sig, args):
        src_, s_off, dst_, d_off = args
        vec = ir.VectorType(ir.FloatType(), MR).as_pointer()
        s, d = (make_array(sig.args[i])(context, builder, v).data
                for i, v in ((0, src_), (2, dst_)))
        value = builder.load(builder.bitcast(builder.gep(s, [s_off]), vec), align=4)
        builder.store(value, builder.bitcast(builder.gep(d, [d_off]), vec), align=4)
        return context.get_dummy_value()

    return sig, codegen


def _stack_floats(size: int):
    """The intrinsic (): a 1-D float32 array of `size` elements on the caller's stack."""
    array = types.Array(types.float32, 1, "C")

    @intrinsic
    def stack(typingctx):
        def codegen(context, builder, sig, args):
            data = cgutils.alloca_once(builder, ir.FloatType(), size=size)
            out = make_array(array)(context, builder)
            intp = context.get_value_type(types.intp)
            populate_array(out, data=data, shape=[ir.Constant(intp, size)],
                           strides=[ir.Constant(intp, 4)], itemsize=ir.Constant(intp, 4),
                           meminfo=None)
            return out._getvalue()

        return array(), codegen

    return stack


_pack_buffer = _stack_floats(KC * NR)
_a_buffer = _stack_floats(MC * KC + MC // MR * TILE_PAD)  # 129 KiB


@njit(inline="always")
def _rows(nc, m, A, a_off, a_tile, sa_i, sa_p, B, b_off, ldb, k, D, d_off, ldd, add):
    """Rows 0..m-1 of one panel, nc <= 32 columns wide (TILE): tiles of 8 rows, then 4, 2, 1;
    row i of A at a_off + (i // MR)·a_tile + (i % MR)·sa_i."""
    i = 0
    while i < m:
        left = m - i
        mr = 8 if left >= 8 else 4 if left >= 4 else 2 if left >= 2 else 1
        _tile(A, a_off + i // MR * a_tile + i % MR * sa_i, sa_i, sa_p, B, b_off, ldb, k, D,
              d_off + i * ldd, ldd, add, mr, nc)
        i += mr


@njit(inline="always")
def _pack(B, off, sb_p, sb_j, kc, nc, alpha, out):
    """out[p, j] = alpha B[off + p·sb_p + j·sb_j] for p < kc, j < nc (row stride NR)."""
    for p in range(kc):
        src, dst = off + p * sb_p, p * NR
        for j in range(nc):
            out[dst + j] = alpha * B[src + j * sb_j]


@njit(inline="always")
def _sgemm(m, n, k, alpha, A, sa_i, sa_p, B, sb_p, sb_j, beta, C, ldc, in_panels):
    """C[i, j] = alpha Σ_p A[i·sa_i + p·sa_p] B[p·sb_p + j·sb_j] + beta C[i·ldc + j], for
    i < m, j < n; A, B, C flat float32 arrays (beta = 0: C is not read); in_panels: B
    as `panels` lays it out instead (PANELS)."""
    if beta != 0.0 and beta != 1.0:
        for i in range(m):
            for j in range(n):
                C[i * ldc + j] *= beta
    if k == 0 or alpha == 0.0:
        if beta == 0.0:
            for i in range(m):
                for j in range(n):
                    C[i * ldc + j] = 0.0
        return
    for i0 in range(0, m, MC):  # row blocks: A's rows stay in cache across the panels
        _block(min(MC, m - i0), n, k, alpha, A[i0 * sa_i :], sa_i, sa_p, B, sb_p, sb_j, beta,
               C[i0 * ldc :], ldc, in_panels)


@njit(inline="always")
def _block(m, n, k, alpha, A, sa_i, sa_p, B, sb_p, sb_j, beta, C, ldc, in_panels):
    """sgemm on at most MC rows, C already scaled by beta: KC rows of B at a time, A's
    block packed first where its rows are strided (PACKED A), then every panel."""
    pack, a_pack = _pack_buffer(), _a_buffer()
    packs_a, packs_b = sa_p != 1 and n > NR, sb_j != 1 or alpha != 1.0
    for k0 in range(0, k, KC):
        kc = min(KC, k - k0)
        add = beta != 0.0 or k0 > 0
        if packs_a:
            _pack_a(A, k0 * sa_p, sa_p, m, kc, a_pack)
            a, a_off, a_tile, si, sp = a_pack, 0, MR * kc + TILE_PAD, 1, MR
        else:
            a, a_off, a_tile, si, sp = A, k0 * sa_p, MR * sa_i, sa_i, sa_p
        for j0 in range(0, n, NR):
            nc = min(NR, n - j0)
            b_off = j0 * k + k0 * NR if in_panels else k0 * sb_p + j0 * sb_j  # B[k0, j0]
            if packs_b:
                _pack(B, b_off, sb_p, sb_j, kc, nc, alpha, pack)
                b, b_off, ldb = pack, 0, NR
            else:  # DIRECT, or PANELS (sb_p = NR)
                b, ldb = B, sb_p
            _rows(nc, m, a, a_off, a_tile, si, sp, b, b_off, ldb, kc, C, j0, ldc, add)


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")
def narrow_matmul(a, bT, out):
    """out (m, n) = a (m, k) @ bTᵀ, bT (n, k), for a product with a few columns (the
    input error of a layer with a few inputs): one dot product per element, vectorised
    along k (reassociated: LLVM keeps 16-wide partial sums), where the tiles would
    compute 16 columns. One thread, (3,200, 128) @ (128, 3): 47 µs, NumPy's OpenBLAS
    (AVX2) 94; (2,000, 400) @ (400, 2): 56 against 134; even at 8 columns, slower at 16."""
    m, k = a.shape
    for i in range(m):
        for j in range(bT.shape[0]):
            s = np.float32(0.0)
            for p in range(k):
                s += a[i, p] * bT[j, p]
            out[i, j] = s


@njit(nogil=True)
def _pack_a(A, off, sa_p, m, kc, out):
    """out: the rows 0..m-1, columns off.. off+kc of an A stored transposed (unit row
    stride, the only A packed) as tiles of MR rows, each column of a tile contiguous:
    A[i, p] at (i // MR)·(MR·kc + TILE_PAD) + p·MR + i % MR. A full tile's column is
    one 8-float vector move (`_move8`), and the tiles lie TILE_PAD floats further apart
    than their size: at MR·kc floats (8 KiB) the 16 stores of one column fell in the
    same cache sets, and packing a (2,500, 512) Dᵀ took 0.37 ms, 0.10 spaced out (Zen 5,
    one thread; Dᵀ U 1.61 -> 1.34 ms at U's 128 columns). Compiled on its own: inlined
    into the caller, LLVM made it ~40 % slower (medium's ∂L/∂W: 153 against 95 GFLOP/s
    for the whole product)."""
    full, tile = m - m % MR, MR * kc + TILE_PAD
    for p in range(kc):  # along A's rows in memory
        row = off + p * sa_p
        for t in range(0, full, MR):
            _move8(A, row + t, out, t // MR * tile + p * MR)
        for r in range(m - full):  # the last tile's rows
            out[full // MR * tile + p * MR + r] = A[row + full + r]


_INT, _REAL = types.CPointer(types.int64), types.CPointer(types.float32)
_CHAR = types.CPointer(types.int8)
FORTRAN_SGEMM = types.void(_CHAR, _CHAR, _INT, _INT, _INT, _REAL, _REAL, _INT, _REAL, _INT,
                           _REAL, _REAL, _INT, types.int64, types.int64)


@njit(inline="always")
def _transposed(flag) -> bool:
    return flag[0] in (84, 116, 67, 99)  # 'T', 't', 'C', 'c'


@cache
def fortran_sgemm():
    """The compiled _fortran_sgemm (a Numba cfunc: `.address`), built or loaded from
    Numba's cache on the first call, not on import. The helpers are inlined into it at
    Numba's level, so LLVM optimises the tiles once: ~1.1 s on a clean cache (as nested
    compiled functions, each level re-optimised them: ~2.4 s), which a process on
    another backend never pays."""
    return cfunc(FORTRAN_SGEMM, cache=True)(_fortran_sgemm)


def _fortran_sgemm(transa, transb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, la, lb):
    """BLAS sgemm with 64-bit integers (ILP64): C (M, N) = alpha op(A) op(B) + beta C,
    column-major, as rnnlab.kernels._blas calls it. Column-major C is row-major Cᵀ
    (N, M) = op(B)ᵀ op(A)ᵀ: rows N, columns M, A_rows[i, p] = op(B)[p, i] and
    B_cols[p, j] = op(A)[j, p]."""
    m, n, k = N[0], M[0], K[0]
    if m <= 0 or n <= 0:
        return
    sa_i, sa_p = (1, ldb[0]) if _transposed(transb) else (ldb[0], 1)
    in_panels = transa[0] == 80  # 'P': op(A) = Aᵀ as `panels` lays it out (PANELS)
    sb_p, sb_j = (NR, 1) if in_panels else (1, lda[0]) if _transposed(transa) else (lda[0], 1)
    A = carray(b, ((m - 1) * sa_i + max(k - 1, 0) * sa_p + 1,))
    B = carray(a, (-(-n // NR) * NR * k if in_panels else
                   max(k - 1, 0) * sb_p + (n - 1) * sb_j + 1,))
    C = carray(c, ((m - 1) * ldc[0] + n,))
    _sgemm(m, n, k, alpha[0], A, sa_i, sa_p, B, sb_p, sb_j, beta[0], C, ldc[0], in_panels)


@cache
def _ctypes_sgemm():
    """fortran_sgemm as a ctypes function (CFUNCTYPE: the GIL is released in calls)."""
    i64, f32, ptr = ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_float), ctypes.c_void_p
    return ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, i64, i64, i64, f32, ptr, i64,
                            ptr, i64, f32, ptr, i64, ctypes.c_int64, ctypes.c_int64)(
        fortran_sgemm().address)


def sgemm(m: int, n: int, k: int, alpha: float, A, sa_i: int, sa_p: int, B, sb_p: int,
          sb_j: int, beta: float, C, ldc: int) -> None:
    """C[i, j] = alpha Σ_p A[i·sa_i + p·sa_p] B[p·sb_p + j·sb_j] + beta C[i·ldc + j] for
    i < m, j < n, from Python: A, B, C float32 arrays whose data start at the element
    (0, 0) (C written in place), each operand with a unit stride on one side. Through
    the compiled sgemm, by ctypes, which lets go of the GIL: calls on several threads
    run at once."""
    if 1 not in (sa_i, sa_p) or 1 not in (sb_p, sb_j):
        raise ValueError(f"sgemm: A and B each need a unit stride, got A {(sa_i, sa_p)}, "
                         f"B {(sb_p, sb_j)}")
    transb, ldb = (b"N", sa_i) if sa_p == 1 else (b"T", sa_p)  # Fortran's B is our A
    transa, lda = (b"N", sb_p) if sb_j == 1 else (b"T", sb_j)

    def ref(value, kind=ctypes.c_int64):
        return ctypes.byref(kind(value))

    _ctypes_sgemm()(transa, transb, ref(n), ref(m), ref(k), ref(alpha, ctypes.c_float),
                    B.ctypes.data, ref(max(lda, 1)), A.ctypes.data, ref(max(ldb, 1)),
                    ref(beta, ctypes.c_float), C.ctypes.data, ref(ldc), 1, 1)


__all__ = ["FORTRAN_SGEMM", "column_fill", "contiguous", "fortran_sgemm", "has_avx512",
           "narrow_matmul", "padded", "pads", "panels", "sgemm"]
