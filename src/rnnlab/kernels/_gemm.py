"""rnnlab's own float32 GEMM for CPUs with AVX-512: the loops' per-step product where
the BLAS at hand runs narrower vectors (`RNNLAB_BLAS=avx512` in rnnlab.kernels._blas).

Why: an environment may hold OpenBLAS to its AVX2 kernels on an AVX-512 CPU
(`OPENBLAS_CORETYPE=Haswell` on this project's Zen 5 machine) while PyTorch's oneDNN
runs AVX-512, and OpenBLAS re-packs W_hh on every per-step call. Measured there, one
thread, 100-2,000 calls from a compiled loop, GFLOP/s against NumPy's OpenBLAS:
20×100×400 218/104, 64×32×128 243/116, 50×128×512 228/106, 50×512×2048 155/105,
128×256×1024 192/124 (`benchmarks/README.md`, issue 16, sixth session).

The product C (m, n) = alpha A (m, k) B (k, n) + beta C, every operand read through
strides (A[i, p] = A[i·sa_i + p·sa_p], so a transposed operand costs nothing to
describe), in column panels of NR = 32:

    TILE    MR × 32 of C in 2·MR vector registers of 16 floats (MR = 8, 4, 2 or 1 rows:
            m = 8q + the rest in 4, 2, 1, no row computed twice); each step of k
            broadcasts one A value per row and does two fused multiply-adds with the
            panel's row of B. Written in LLVM IR (`_tile`), the loop over k included.
    DIRECT  a full panel of a B with unit column stride is read where it lies (row
            stride sb_p): no copy, the whole k in one pass. Per step of an RNN, B is
            W_hh, and copying it is what costs OpenBLAS most at small m.
    PACKED  the last, narrower panel (zero-padded to 16 or 32 columns), a B with
            strided columns, and alpha != 1: copied KC rows at a time into a buffer
            on the stack (alpha folded in), the tile reading it; a panel narrower
            than its tile goes through an MR × 32 stack buffer, then into C.

Each element of C is one chain of fused multiply-adds over k in order (per KC block
when packed, the blocks added in order), whatever the rows around it: a row's bits
do not depend on m or on where the row blocks of the threaded loops fall. On a CPU
without AVX-512 the same code runs (LLVM splits each vector) but slower than the
BLAS: rnnlab.kernels._blas selects it only where `has_avx512()`.
"""

from __future__ import annotations

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
_V = ir.VectorType(ir.FloatType(), 16)
_I64 = ir.IntType(64)


def has_avx512() -> bool:
    """Whether this CPU runs 512-bit float vectors (AVX-512F)."""
    return ll.get_host_cpu_features().get("avx512f", False)


@intrinsic
def _tile(typingctx, A, a_off, sa_i, sa_p, B, b_off, ldb, k, D, d_off, ldd, add, mr, nv):
    """D[r, :16·nv] (+)= Σ_p A[a_off + r·sa_i + p·sa_p] B[b_off + p·ldb, :16·nv] for r < mr,
    mr in (8, 4, 2, 1), nv in (1, 2); rows of B and D contiguous (D's row stride ldd);
    add: D += rather than D =. One unrolled body per (mr, nv), chosen at run time."""
    n = types.intp
    sig = types.void(A, n, n, n, B, n, n, n, D, n, n, types.boolean, n, n)

    def codegen(context, builder, sig, args):
        A_, a_off, sa_i, sa_p, B_, b_off, ldb, k, D_, d_off, ldd, add, mr, nv = args
        a, b, d = (make_array(sig.args[i])(context, builder, v).data
                   for i, v in ((0, A_), (4, B_), (8, D_)))
        for rows in (8, 4, 2, 1):
            for vectors in (1, 2):
                chosen = builder.and_(builder.icmp_signed("==", mr, ir.Constant(_I64, rows)),
                                      builder.icmp_signed("==", nv, ir.Constant(_I64, vectors)))
                with builder.if_then(chosen):
                    _tile_body(builder, rows, vectors, a, a_off, sa_i, sa_p, b, b_off, ldb, k,
                               d, d_off, ldd, add)
        return context.get_dummy_value()

    return sig, codegen


def _tile_body(builder, mr, nv, a, a_off, sa_i, sa_p, b, b_off, ldb, k, d, d_off, ldd, add):
    """The IR of one (mr, nv) tile: the accumulators, the loop over k, the stores."""
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V, [_V] * 3),
                                         "llvm.fma.v16f32")
    vec, lane0 = _V.as_pointer(), ir.Constant(ir.IntType(32), 0)
    splat = ir.Constant(ir.VectorType(ir.IntType(32), 16), None)
    undef = ir.Constant(_V, ir.Undefined)

    def at(ptr, *offsets):
        total = offsets[0]
        for offset in offsets[1:]:
            total = builder.add(total, offset)
        return builder.gep(ptr, [total])

    rows = [at(a, a_off, builder.mul(ir.Constant(_I64, r), sa_i)) for r in range(mr)]
    acc = [[cgutils.alloca_once_value(builder, ir.Constant(_V, None)) for _ in range(nv)]
           for _ in range(mr)]  # (mr, nv) vectors, in registers after mem2reg
    with cgutils.for_range(builder, k) as loop:
        p = loop.index
        b_row = at(b, b_off, builder.mul(p, ldb))
        bv = [builder.load(builder.bitcast(at(b_row, ir.Constant(_I64, 16 * h)), vec), align=4)
              for h in range(nv)]
        ap = builder.mul(p, sa_p)
        for r in range(mr):
            x = builder.insert_element(undef, builder.load(at(rows[r], ap)), lane0)
            x = builder.shuffle_vector(x, undef, splat)  # A[r, p] in all 16 lanes
            for h in range(nv):
                builder.store(builder.call(fma, [x, bv[h], builder.load(acc[r][h])]), acc[r][h])
    with builder.if_else(add) as (adding, putting):
        for branch, plus in ((adding, True), (putting, False)):
            with branch:
                for r in range(mr):
                    d_row = at(d, d_off, builder.mul(ir.Constant(_I64, r), ldd))
                    for h in range(nv):
                        q = builder.bitcast(at(d_row, ir.Constant(_I64, 16 * h)), vec)
                        v = builder.load(acc[r][h])
                        if plus:
                            v = builder.fadd(builder.load(q, align=4), v)
                        builder.store(v, q, align=4)


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


_pack_buffer, _tile_buffer = _stack_floats(KC * NR), _stack_floats(MR * NR)
_a_buffer = _stack_floats(MC * KC)  # 128 KiB


@njit(cache=True, nogil=True)
def _rows(nv, m, A, a_off, a_tile, sa_i, sa_p, B, b_off, ldb, k, D, d_off, ldd, add):
    """Rows 0..m-1 of one panel, 16·nv columns wide (TILE): tiles of 8 rows, then 4, 2, 1;
    row i of A at a_off + (i // MR)·a_tile + (i % MR)·sa_i."""
    i = 0
    while i < m:
        left = m - i
        mr = 8 if left >= 8 else 4 if left >= 4 else 2 if left >= 2 else 1
        _tile(A, a_off + i // MR * a_tile + i % MR * sa_i, sa_i, sa_p, B, b_off, ldb, k, D,
              d_off + i * ldd, ldd, add, mr, nv)
        i += mr


@njit(cache=True, nogil=True)
def _pack(B, off, sb_p, sb_j, kc, nc, width, alpha, out):
    """out[p, :width] = alpha B[off + p·sb_p + j·sb_j] for j < nc, zeros after (row stride NR)."""
    for p in range(kc):
        src, dst = off + p * sb_p, p * NR
        for j in range(nc):
            out[dst + j] = alpha * B[src + j * sb_j]
        for j in range(nc, width):
            out[dst + j] = 0.0


@njit(cache=True, nogil=True)
def sgemm(m, n, k, alpha, A, sa_i, sa_p, B, sb_p, sb_j, beta, C, ldc):
    """C[i, j] = alpha Σ_p A[i·sa_i + p·sa_p] B[p·sb_p + j·sb_j] + beta C[i·ldc + j], for
    i < m, j < n; A, B, C flat float32 arrays (beta = 0: C is not read)."""
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
               C[i0 * ldc :], ldc)


@njit(cache=True, nogil=True)
def _block(m, n, k, alpha, A, sa_i, sa_p, B, sb_p, sb_j, beta, C, ldc):
    """sgemm on at most MC rows, C already scaled by beta: KC rows of B at a time, A's
    block packed first where its rows are strided (PACKED A), then every panel."""
    pack, tmp, a_pack = _pack_buffer(), _tile_buffer(), _a_buffer()
    packs_a = sa_p != 1 and n > NR
    for k0 in range(0, k, KC):
        kc = min(KC, k - k0)
        add = beta != 0.0 or k0 > 0
        if packs_a:
            _pack_a(A, k0 * sa_p, sa_i, sa_p, m, kc, a_pack)
            a, a_off, a_tile, si, sp = a_pack, 0, MR * kc, 1, MR
        else:
            a, a_off, a_tile, si, sp = A, k0 * sa_p, MR * sa_i, sa_i, sa_p
        for j0 in range(0, n, NR):
            nc = min(NR, n - j0)
            if nc == NR and sb_j == 1 and alpha == 1.0:  # DIRECT
                _rows(2, m, a, a_off, a_tile, si, sp, B, k0 * sb_p + j0, sb_p, kc, C, j0, ldc,
                      add)
                continue
            width = NR if nc > 16 else 16
            _pack(B, k0 * sb_p + j0 * sb_j, sb_p, sb_j, kc, nc, width, alpha, pack)
            if nc == width:
                _rows(width // 16, m, a, a_off, a_tile, si, sp, pack, 0, NR, kc, C, j0, ldc, add)
                continue
            for i0 in range(0, m, MR):
                mr = min(MR, m - i0)
                _rows(width // 16, mr, a, a_off + i0 // MR * a_tile, a_tile, si, sp, pack, 0, NR,
                      kc, tmp, 0, NR, False)
                for i in range(mr):
                    c = (i0 + i) * ldc + j0
                    for j in range(nc):
                        C[c + j] = C[c + j] + tmp[i * NR + j] if add else tmp[i * NR + j]


@njit(cache=True, nogil=True)
def _pack_a(A, off, sa_i, sa_p, m, kc, out):
    """out: the rows 0..m-1, columns off.. off+kc of A as tiles of MR rows, each column
    of a tile contiguous: A[i, p] at (i // MR)·MR·kc + p·MR + i % MR."""
    for p in range(kc):
        for i in range(m):
            out[i // MR * MR * kc + p * MR + i % MR] = A[off + i * sa_i + p * sa_p]


_INT, _REAL = types.CPointer(types.int64), types.CPointer(types.float32)
_CHAR = types.CPointer(types.int8)
FORTRAN_SGEMM = types.void(_CHAR, _CHAR, _INT, _INT, _INT, _REAL, _REAL, _INT, _REAL, _INT,
                           _REAL, _REAL, _INT, types.int64, types.int64)


@njit(inline="always")
def _transposed(flag) -> bool:
    return flag[0] in (84, 116, 67, 99)  # 'T', 't', 'C', 'c'


@cfunc(FORTRAN_SGEMM, cache=True)
def fortran_sgemm(transa, transb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, la, lb):
    """BLAS sgemm with 64-bit integers (ILP64): C (M, N) = alpha op(A) op(B) + beta C,
    column-major, as rnnlab.kernels._blas calls it. Column-major C is row-major Cᵀ
    (N, M) = op(B)ᵀ op(A)ᵀ: rows N, columns M, A_rows[i, p] = op(B)[p, i] and
    B_cols[p, j] = op(A)[j, p]."""
    m, n, k = N[0], M[0], K[0]
    if m <= 0 or n <= 0:
        return
    sa_i, sa_p = (1, ldb[0]) if _transposed(transb) else (ldb[0], 1)
    sb_p, sb_j = (1, lda[0]) if _transposed(transa) else (lda[0], 1)
    A = carray(b, ((m - 1) * sa_i + max(k - 1, 0) * sa_p + 1,))
    B = carray(a, (max(k - 1, 0) * sb_p + (n - 1) * sb_j + 1,))
    C = carray(c, ((m - 1) * ldc[0] + n,))
    sgemm(m, n, k, alpha[0], A, sa_i, sa_p, B, sb_p, sb_j, beta[0], C, ldc[0])


__all__ = ["FORTRAN_SGEMM", "fortran_sgemm", "has_avx512", "sgemm"]
