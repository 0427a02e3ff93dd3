"""Probe (issue 16): how fast an AVX-512 float32 GEMM micro-kernel of rnnlab's own could
run, written in LLVM IR and compiled for this CPU by llvmlite (which Numba brings).

Where the environment pins OpenBLAS to its AVX2 kernels (`OPENBLAS_CORETYPE=Haswell`)
and PyTorch uses AVX-512, the LSTM's products are bounded by the AVX2 rate
(`README.md`, fifth session). This measures the kernel a fix would be built on: an
MR × 32 tile of C = A B held in 2·MR vector registers, B packed in 32-column panels,
one broadcast of A and two FMAs per row and step of k. Not used by rnnlab.

    python benchmarks/microkernel_probe.py            # one thread
"""

from __future__ import annotations

import ctypes
import time

import llvmlite.binding as llvm
import numpy as np

MR = 8  # rows of the tile: 16 accumulators of 16 floats


def kernel_ir(mr: int = MR) -> str:
    """C[0:mr, 0:32] = A[0:mr, 0:k] @ Bp[0:k, 0:32] (A row stride lda, C row stride ldc)."""
    rows = range(mr)
    head = ("define void @tile(float* noalias %A, i64 %lda, float* noalias %Bp, "
            "float* noalias %C, i64 %ldc, i64 %k) {")
    lines = [head,
             "entry:", "  br label %loop", "loop:", "  %p = phi i64 [0, %entry], [%pn, %loop]"]
    lines += [f"  %acc{r}_{h} = phi <16 x float> [zeroinitializer, %entry], [%n{r}_{h}, %loop]"
              for r in rows for h in (0, 1)]
    for h in (0, 1):
        lines += [f"  %bo{h} = mul i64 %p, 32", f"  %bh{h} = add i64 %bo{h}, {16 * h}",
                  f"  %bq{h} = getelementptr float, float* %Bp, i64 %bh{h}",
                  f"  %bv{h} = bitcast float* %bq{h} to <16 x float>*",
                  f"  %b{h} = load <16 x float>, <16 x float>* %bv{h}, align 4"]
    for r in rows:
        lines += [f"  %ro{r} = mul i64 {r}, %lda", f"  %ao{r} = add i64 %ro{r}, %p",
                  f"  %aq{r} = getelementptr float, float* %A, i64 %ao{r}",
                  f"  %a{r} = load float, float* %aq{r}",
                  f"  %ai{r} = insertelement <16 x float> undef, float %a{r}, i32 0",
                  (f"  %av{r} = shufflevector <16 x float> %ai{r}, <16 x float> undef, "
                   "<16 x i32> zeroinitializer")]
        lines += [f"  %n{r}_{h} = call <16 x float> @llvm.fma.v16f32(<16 x float> %av{r}, "
                  f"<16 x float> %b{h}, <16 x float> %acc{r}_{h})" for h in (0, 1)]
    lines += ["  %pn = add i64 %p, 1", "  %done = icmp eq i64 %pn, %k",
              "  br i1 %done, label %exit, label %loop", "exit:"]
    for r in rows:
        lines.append(f"  %co{r} = mul i64 {r}, %ldc")
        for h in (0, 1):
            lines += [f"  %ch{r}_{h} = add i64 %co{r}, {16 * h}",
                      f"  %cq{r}_{h} = getelementptr float, float* %C, i64 %ch{r}_{h}",
                      f"  %cv{r}_{h} = bitcast float* %cq{r}_{h} to <16 x float>*",
                      f"  store <16 x float> %n{r}_{h}, <16 x float>* %cv{r}_{h}, align 4"]
    lines += ["  ret void", "}",
              "declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)"]
    return "\n".join(lines)


def compile_tile():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(kernel_ir())
    module.verify()
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    ptr = ctypes.c_void_p
    fn = ctypes.CFUNCTYPE(None, ptr, ctypes.c_int64, ptr, ptr, ctypes.c_int64, ctypes.c_int64)(
        engine.get_function_address("tile"))
    return fn, engine, "zmm" in machine.emit_assembly(module)


def best_seconds(call, reps: int, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            call()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main() -> None:
    tile, engine, zmm = compile_tile()
    rng = np.random.default_rng(0)
    print(f"CPU {llvm.get_host_cpu_name()}, 512-bit registers used: {zmm}")
    for k in (512, 2048, 8192):
        A = rng.standard_normal((MR, k)).astype(np.float32)
        B = rng.standard_normal((k, 32)).astype(np.float32)
        C = np.zeros((MR, 32), np.float32)
        args = (A.ctypes.data, k, B.ctypes.data, C.ctypes.data, 32, k)
        tile(*args)
        error = np.abs(C - A.astype(np.float64) @ B).max()
        seconds = best_seconds(lambda args=args: tile(*args), reps=max(200, 2_000_000 // k))
        print(f"tile {MR}x32, k = {k}: {2 * MR * 32 * k / seconds / 1e9:6.1f} GFLOP/s per call "
              f"(a ctypes call included), max error {error:.1e}")
    n = 2048
    X = rng.standard_normal((n, n)).astype(np.float32)
    seconds = best_seconds(lambda: X @ X, reps=2, rounds=3)
    print(f"NumPy's BLAS, {n}^3 float32 GEMM: {2 * n**3 / seconds / 1e9:.1f} GFLOP/s")
    del engine


if __name__ == "__main__":
    main()
