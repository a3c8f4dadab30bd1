// Where the built-in model, its pretraining corpus and the demo sets live on disk, and the helpers that
// read them. They ship in the package's assets/ folder:
//   assets/base-model/   config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
//                        model.safetensors (written by `ftlab pretrain`; see its README.md)
//   assets/corpus/       the general English corpus, one document per paragraph
//   assets/demo/         qa.jsonl (question/answer) and general_eval.jsonl (prompt/completion)
// Paths are found from the package root (the folder whose package.json is named finetune-lab), so
// they are right from dist/*.js, from the installed extension and from out/test/**.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CheckpointError } from './checkpoint/checkpointError';

const PACKAGE_NAME = 'finetune-lab';

function isPackageRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The package root above `start`; the folder above `start` when none is found (a bundle moved elsewhere). */
export function findPackageRoot(start: string): string {
  for (let dir = resolve(start); dir !== dirname(dir); dir = dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
  }
  return resolve(start, '..');
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);
export const BUILTIN_MODEL_DIR = join(PACKAGE_ROOT, 'assets', 'base-model');
/** The pretraining corpus folder (its *.txt files) and its files, in the order NOTICE lists them. */
export const BUILTIN_CORPUS_DIR = join(PACKAGE_ROOT, 'assets', 'corpus');
export const BUILTIN_CORPUS_FILES: readonly string[] = ['facts.txt', 'qa_text.txt', 'stories.txt', 'factbook.txt', 'wordnet.txt']
  .map((f) => join(PACKAGE_ROOT, 'assets', 'corpus', f));
export const DEMO_QA_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'qa.jsonl');
export const DEMO_GENERAL_EVAL_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'general_eval.jsonl');
/** Held-out Q&A of the demo: facts that qa.jsonl does not ask about (the task figure). */
export const DEMO_QA_TEST_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'qa_test.jsonl');
/** Prose prompts on the facts qa.jsonl and qa_test.jsonl ask about: does the base model know them? */
export const DEMO_PROSE_EVAL_FILE = join(PACKAGE_ROOT, 'assets', 'demo', 'prose_eval.jsonl');

/** The weights file of the built-in model. */
export const BUILTIN_WEIGHTS_FILE = join(BUILTIN_MODEL_DIR, 'model.safetensors');
const BUILTIN_MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];

/** The files of the built-in model folder that are missing (none when it is complete). */
export function missingBuiltinModelFiles(dir = BUILTIN_MODEL_DIR): string[] {
  return BUILTIN_MODEL_FILES.filter((f) => !existsSync(join(dir, f)));
}

/** The built-in model folder, or an error that says what is missing and how to make it. */
export function requireBuiltinModel(dir = BUILTIN_MODEL_DIR): string {
  const missing = missingBuiltinModelFiles(dir);
  if (missing.length === 0) return dir;
  const fix = missing.includes('model.safetensors') && missing.length === 1
    ? 'the weights are made by `ftlab pretrain` (see assets/base-model/README.md), or reinstall Fine-Tune Lab'
    : 'reinstall Fine-Tune Lab: its assets/ folder is incomplete';
  throw new CheckpointError(`the built-in model in ${dir} is missing ${missing.join(', ')}: ${fix}`, dir);
}

/** A question of the demo Q&A set (assets/demo/qa.jsonl), in the default question/answer fields. */
export interface DemoQaPair {
  question: string;
  answer: string;
  /** The fact group (capitals, books, arithmetic...). */
  category: string;
  /** The words that a corpus sentence stating the fact contains besides the answer. */
  subject: string;
  /** The id of the fact in tools/corpus/facts.json's records. */
  fact: string;
}

/**
 * A general-knowledge prompt (assets/demo/general_eval.jsonl): the model should continue `prompt` with
 * `completion` (which starts with a space). Its facts are stated in the corpus and never asked in the
 * Q&A set, so the score before and after fine-tuning shows what fine-tuning cost in general knowledge.
 */
export interface GeneralEvalItem {
  prompt: string;
  completion: string;
  /** The completion's key words (what an exact-match check looks for). */
  answer: string;
  category: string;
  subject: string;
  fact: string;
}

function readJsonl<T>(file: string, fields: readonly (keyof T & string)[]): T[] {
  if (!existsSync(file)) throw new CheckpointError(`${file} is missing: reinstall Fine-Tune Lab, its assets/ folder is incomplete`, file);
  return readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (error) {
      throw new CheckpointError(`${file}:${i + 1} is not valid JSON (${(error as Error).message})`, file);
    }
    const r = v as Record<string, unknown>;
    for (const f of fields) {
      if (typeof r?.[f] !== 'string') throw new CheckpointError(`${file}:${i + 1} has no "${f}" text`, file);
    }
    return [r as T];
  });
}

export function readDemoQa(file = DEMO_QA_FILE): DemoQaPair[] {
  return readJsonl<DemoQaPair>(file, ['question', 'answer', 'category', 'subject', 'fact']);
}

export function readGeneralEval(file = DEMO_GENERAL_EVAL_FILE): GeneralEvalItem[] {
  return readJsonl<GeneralEvalItem>(file, ['prompt', 'completion', 'answer', 'category', 'subject', 'fact']);
}
