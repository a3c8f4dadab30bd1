// Can the CUDA execution provider load here? ORT's own error only says "Failed to load shared
// library"; this check names what is missing and how to get it, before ORT is asked.

import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';

/** ORT 1.29's CUDA 13 provider links these (DESIGN.md); cuDNN, cuFFT and NVRTC are opened at run time. */
export const CUDA_LIBRARIES = ['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10', 'libcufft.so.12', 'libcudnn.so.9', 'libcuda.so.1'];
export const PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

export interface CudaCheck {
  ok: boolean;
  providerDir: string;
  missingProviderFiles: string[];
  missingLibraries: string[];
  message: string;
}

export function ortBinaryDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

function librarySearchDirs(): string[] {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  dirs.push('/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib');
  return dirs;
}

function ldconfigLibraries(): Set<string> {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return new Set(out.split('\n').map((l) => l.trim().split(' ')[0]).filter(Boolean));
  } catch {
    return new Set();
  }
}

export function checkCuda(): CudaCheck {
  const providerDir = ortBinaryDir();
  if (process.platform !== 'linux') {
    return { ok: false, providerDir, missingProviderFiles: [], missingLibraries: [], message: `CUDA training is supported on Linux x64 only (this is ${process.platform}-${process.arch}); training runs on the CPU.` };
  }
  const missingProviderFiles = PROVIDER_FILES.filter((f) => !existsSync(join(providerDir, f)));
  const known = ldconfigLibraries();
  const dirs = librarySearchDirs().filter((d) => existsSync(d));
  const inDirs = new Set(dirs.flatMap((d) => { try { return readdirSync(d); } catch { return []; } }));
  const missingLibraries = CUDA_LIBRARIES.filter((l) => !known.has(l) && !inDirs.has(l));
  const ok = !missingProviderFiles.length && !missingLibraries.length;
  const parts: string[] = [];
  if (missingProviderFiles.length) {
    parts.push(`the ONNX Runtime CUDA provider is not installed (${missingProviderFiles.join(', ')} missing in ${providerDir}); it must be ORT 1.29.0's CUDA 13 build, e.g. from the npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9`);
  }
  if (missingLibraries.length) {
    parts.push(`CUDA libraries not found: ${missingLibraries.join(', ')} (install the CUDA 13 runtime and cuDNN 9, or add a PyTorch cu130 environment's site-packages/nvidia/*/lib folders to LD_LIBRARY_PATH)`);
  }
  return { ok, providerDir, missingProviderFiles, missingLibraries, message: ok ? 'CUDA provider and libraries found' : `CUDA is not usable: ${parts.join('; ')}. Training runs on the CPU.` };
}
