// Where the committed fixtures are, from a test bundle anywhere under out/ (or run from source).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRepoRoot(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'test', 'golden'))) return d;
    if (dirname(d) === d) throw new Error(`cannot find the repository root above ${__dirname}`);
  }
}

export const REPO_ROOT = findRepoRoot();
/** Tiny HF checkpoint folders written by tools/reference/hf_ref.py. */
export const HF_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'hf');
export const GOLDEN_DIR = join(REPO_ROOT, 'test', 'golden');
/** The fixtures that have a golden file test/golden/hf_<name>.json. */
export const HF_FIXTURE_NAMES = ['gpt2_tiny', 'llama_gqa_tiny', 'llama3_tied_tiny', 'llama_bias_tiny', 'qwen2_bias_tiny'] as const;
