// The messages exchanged by the extension host, the generation worker and the dashboard webview.
// Both ends of every channel import this one file, so a message's shape cannot drift between them.
//
//   worker  -> host     ready, generateProgress, responses to generate
//   host    -> worker   generate (a request: answered by id), cancelGenerate
//   host    -> webview  metrics, showReport (an experiment's or a comparison's report, redrawn whole)
//   webview -> host     ready
//
// Training runs in a child process of its own (`ftlab experiment`, src/extension/experimentProcess.ts)
// and reports through its run folder, not through messages.
//
// A notification is `{ method, params }`; a request adds a numeric `id`; its response is
// `{ id, method, result }` or `{ id, method, error }`. Every guard checks the params' shape, not just
// the method name: a child process and a webview hand over whatever the other side posted.
// Numbers may be NaN or Infinity (a diverging loss is still worth showing): the webview channel uses
// the structured clone algorithm, and the worker's IPC channel is forked with 'advanced' serialization.
//
// The handshake: the webview and the worker post `ready` (with PROTOCOL_VERSION) once their listener
// is installed. The host posts nothing to a webview before that, and answers `ready` with the run so
// far in one `reset` batch, which also covers a webview reloaded after being hidden. (The worker's
// `ready` says the engine and its native libraries loaded and speak this protocol; the host queues
// its requests until then.)

/** Bumped when a message changes incompatibly; sent in `ready` so a stale bundle is caught. */
export const PROTOCOL_VERSION = 2;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A type guard; `shape` below checks at compile time that a guard covers every field of its type. */
export type Check<T> = (value: unknown) => value is T;

// ---- guards ------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isNumber: Check<number> = (v): v is number => typeof v === 'number';
export const isString: Check<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Check<boolean> = (v): v is boolean => typeof v === 'boolean';
export const isStep: Check<number> = (v): v is number => Number.isInteger(v) && (v as number) >= 0;
export const isPositiveInteger: Check<number> = (v): v is number => Number.isInteger(v) && (v as number) >= 1;

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v): v is T | undefined => v === undefined || check(v);
}

export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.every(check);
}

export function recordOf<T>(check: Check<T>): Check<Record<string, T>> {
  return (v): v is Record<string, T> => isRecord(v) && Object.values(v).every(check);
}

export function oneOf<const T extends readonly string[]>(...values: T): Check<T[number]> {
  return (v): v is T[number] => typeof v === 'string' && values.includes(v);
}

/** Checks an object field by field; extra fields are allowed (a newer sender may add some). */
export function shape<T extends object>(fields: { [K in keyof T]-?: Check<T[K]> }): Check<T> {
  return (v): v is T =>
    isRecord(v) && (Object.keys(fields) as (keyof T & string)[]).every((k) => fields[k](v[k]));
}

export const isJsonValue: Check<JsonValue> = (v): v is JsonValue => {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJsonValue);
  return isRecord(v) && Object.values(v).every(isJsonValue);
};
export const isJsonObject: Check<JsonObject> = (v): v is JsonObject => isRecord(v) && isJsonValue(v);

// ---- message types -----------------------------------------------------------------------------

export interface NotificationMessage<M extends string, P> {
  readonly method: M;
  readonly params: P;
}

export interface RequestMessage<M extends string, P> {
  readonly id: number;
  readonly method: M;
  readonly params: P;
}

export interface ResponseError {
  readonly message: string;
}

export type ResponseMessage<M extends string, R> =
  | { readonly id: number; readonly method: M; readonly result: R }
  | { readonly id: number; readonly method: M; readonly error: ResponseError };

const isResponseError = shape<ResponseError>({ message: isString });

/** A one-way message. */
export class NotificationType<M extends string, P> {
  constructor(
    readonly method: M,
    private readonly checkParams: Check<P>,
  ) {}

  create(params: P): NotificationMessage<M, P> {
    return { method: this.method, params };
  }

  is(msg: unknown): msg is NotificationMessage<M, P> {
    return isRecord(msg) && msg.method === this.method && !('id' in msg) && this.checkParams(msg.params);
  }
}

/** A message that expects exactly one response carrying the same id. */
export class RequestType<M extends string, P, R> {
  constructor(
    readonly method: M,
    private readonly checkParams: Check<P>,
    private readonly checkResult: Check<R>,
  ) {}

  create(id: number, params: P): RequestMessage<M, P> {
    return { id, method: this.method, params };
  }

  is(msg: unknown): msg is RequestMessage<M, P> {
    return isRecord(msg) && msg.method === this.method && isPositiveInteger(msg.id) && this.checkParams(msg.params);
  }

  respond(id: number, result: R): ResponseMessage<M, R> {
    return { id, method: this.method, result };
  }

  fail(id: number, message: string): ResponseMessage<M, R> {
    return { id, method: this.method, error: { message } };
  }

  isResponse(msg: unknown): msg is ResponseMessage<M, R> {
    if (!isRecord(msg) || msg.method !== this.method || !isPositiveInteger(msg.id) || 'params' in msg) return false;
    return 'error' in msg ? isResponseError(msg.error) : 'result' in msg && this.checkResult(msg.result);
  }
}

// ---- handshake ---------------------------------------------------------------------------------

export interface ReadyParams {
  /** PROTOCOL_VERSION of the side that sends it. */
  readonly protocol: number;
}
/** worker -> host and webview -> host: "my listener is installed, send what you queued". */
export const Ready = new NotificationType('ready', shape<ReadyParams>({ protocol: isPositiveInteger }));

// ---- metrics a webview draws ----------------------------------------------------------------

export interface StepMetricsParams {
  readonly runId: string;
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm?: number;
  readonly tokensPerSec: number;
}
export const isStepMetricsParams = shape<StepMetricsParams>({
  runId: isString,
  step: isStep,
  loss: isNumber,
  lr: isNumber,
  gradNorm: optional(isNumber),
  tokensPerSec: isNumber,
});

export interface EvalMetricsParams {
  readonly runId: string;
  readonly step: number;
  /** The dataset split evaluated, e.g. 'validation'. */
  readonly split: string;
  /** Metric name -> value, e.g. { loss: 2.1, perplexity: 8.2, exactMatch: 0.4 }. */
  readonly metrics: Readonly<Record<string, number>>;
}
export const isEvalMetricsParams = shape<EvalMetricsParams>({
  runId: isString,
  step: isStep,
  split: isString,
  metrics: recordOf(isNumber),
});

// ---- host -> webview ---------------------------------------------------------------------------

export interface MetricsParams {
  readonly runId: string;
  /** true: drop what is shown and start over from this batch (a new run, or a reloaded webview). */
  readonly reset: boolean;
  readonly steps: readonly StepMetricsParams[];
  readonly evals: readonly EvalMetricsParams[];
}
/** A batch: the host coalesces step events so the webview redraws a few times a second at most. */
export const Metrics = new NotificationType(
  'metrics',
  shape<MetricsParams>({
    runId: isString,
    reset: isBoolean,
    steps: arrayOf(isStepMetricsParams),
    evals: arrayOf(isEvalMetricsParams),
  }),
);

// ---- host -> worker: prompt testing ------------------------------------------------------------

/** How an answer is generated: greedy, or the design's sampling (the setting finetuneLab.evaluation.decoding). */
export type GenerateDecoding = { readonly kind: 'greedy' } | { readonly kind: 'sample'; readonly topP: number; readonly temperature: number; readonly seed: number };
const isGenerateDecoding: Check<GenerateDecoding> = (v): v is GenerateDecoding =>
  shape<{ kind: 'greedy' }>({ kind: oneOf('greedy') })(v) ||
  shape<{ kind: 'sample'; topP: number; temperature: number; seed: number }>({ kind: oneOf('sample'), topP: isNumber, temperature: isNumber, seed: isStep })(v);

export interface GenerateParams {
  /** 'builtin' or a Hugging Face model folder. */
  readonly model: string;
  /** A run folder: generate with its trained weights (on `model`'s architecture) instead. */
  readonly run?: string;
  readonly prompt: string;
  readonly maxNewTokens?: number;
  /** Default greedy. */
  readonly decoding?: GenerateDecoding;
}
export interface GenerateResult {
  /** The continuation up to the first line break or EOS. */
  readonly text: string;
  /** 'cancelled': a cancelGenerate ended it; `text` is what was generated until then. */
  readonly finish: 'done' | 'cancelled';
}
export const Generate = new RequestType(
  'generate',
  shape<GenerateParams>({ model: isString, run: optional(isString), prompt: isString, maxNewTokens: optional(isPositiveInteger), decoding: optional(isGenerateDecoding) }),
  shape<GenerateResult>({ text: isString, finish: oneOf('done', 'cancelled') }),
);

/** worker -> host: the answer so far of request `id` (streaming), after each generated token. */
export interface GenerateProgressParams {
  readonly id: number;
  readonly text: string;
}
export const GenerateProgress = new NotificationType('generateProgress', shape<GenerateProgressParams>({ id: isPositiveInteger, text: isString }));

/** host -> worker: stop generating for request `id`; it is answered with what it has (finish 'cancelled'). */
export interface CancelGenerateParams {
  readonly id: number;
}
export const CancelGenerate = new NotificationType('cancelGenerate', shape<CancelGenerateParams>({ id: isPositiveInteger }));

// ---- host -> webview: the experiment dashboard ---------------------------------------------------
// The dashboard draws an experiment (or any runs compared) from the run folders on disk: the host
// builds the report from the files (the engine's buildReport / compareRunsReport) and posts the
// figures the page shows, whole, each time they change. The webview keeps `source` in its state so
// that a reloaded window reopens the same dashboard (the serializer reads it back, checked).

/** What a dashboard shows: one experiment folder, or run folders side by side ("Compare runs"). */
export type DashboardSource =
  | { readonly kind: 'experiment'; readonly dir: string }
  | { readonly kind: 'runs'; readonly runDirs: readonly string[] };
export const isDashboardSource: Check<DashboardSource> = (v): v is DashboardSource =>
  shape<{ kind: 'experiment'; dir: string }>({ kind: oneOf('experiment'), dir: isString })(v) ||
  shape<{ kind: 'runs'; runDirs: string[] }>({ kind: oneOf('runs'), runDirs: arrayOf(isString) })(v);

/** The webview's saved state (vscode.getState/setState), handed to the serializer after a reload. */
export interface DashboardState {
  readonly source: DashboardSource;
}
export const isDashboardState = shape<DashboardState>({ source: isDashboardSource });

/** A measured share with its 95% interval; `correct` may be fractional (sampled decoding). */
export interface ShareParams {
  readonly correct: number;
  readonly total: number;
  readonly fraction: number;
  readonly low: number;
  readonly high: number;
}
const isShare = shape<ShareParams>({ correct: isNumber, total: isNumber, fraction: isNumber, low: isNumber, high: isNumber });

export interface BeforeAfterParams {
  readonly before: ShareParams | null;
  readonly after: ShareParams | null;
  /** Why a side is null, in words. */
  readonly missing?: string;
}
const nullableShare: Check<ShareParams | null> = (v): v is ShareParams | null => v === null || isShare(v);
const isBeforeAfter = shape<BeforeAfterParams>({ before: nullableShare, after: nullableShare, missing: optional(isString) });
const nullableNumber: Check<number | null> = (v): v is number | null => v === null || isNumber(v);

export const VARIANT_STATES = ['finished', 'stopped', 'failed', 'running', 'pending'] as const;

export interface DashboardVariant {
  readonly name: string;
  readonly strategy: string;
  readonly status: (typeof VARIANT_STATES)[number];
  /** The error of a failed run, or why figures are missing. */
  readonly detail?: string;
  /** Where it trained ('cpu' or 'cuda'), once known. */
  readonly device?: string;
  readonly lossCurve: readonly { readonly step: number; readonly loss: number }[];
  readonly general: BeforeAfterParams;
  readonly task: BeforeAfterParams;
  readonly steps: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
  readonly peakMemoryBytes: number | null;
  readonly trainableParameters: number;
  /** General accuracy after minus before (a fraction; negative = forgot); null when not measured. */
  readonly forgetting: number | null;
}
export const isDashboardVariant = shape<DashboardVariant>({
  name: isString,
  strategy: isString,
  status: oneOf(...VARIANT_STATES),
  detail: optional(isString),
  device: optional(isString),
  lossCurve: arrayOf(shape<{ step: number; loss: number }>({ step: isStep, loss: isNumber })),
  general: isBeforeAfter,
  task: isBeforeAfter,
  steps: isStep,
  seconds: isNumber,
  tokensPerSecond: isNumber,
  peakMemoryBytes: nullableNumber,
  trainableParameters: isNumber,
  forgetting: nullableNumber,
});

export interface ShowReportParams {
  readonly source: DashboardSource;
  readonly title: string;
  /** Base model, data, evaluation sets: one line. */
  readonly subtitle: string;
  readonly variants: readonly DashboardVariant[];
  /** A variant is still training or being evaluated: the page says the figures are live. */
  readonly live: boolean;
  /** The folder could not be read (a bad file, a deleted experiment): what and where, in words. */
  readonly problem?: string;
}
export const ShowReport = new NotificationType(
  'showReport',
  shape<ShowReportParams>({
    source: isDashboardSource,
    title: isString,
    subtitle: isString,
    variants: arrayOf(isDashboardVariant),
    live: isBoolean,
    problem: optional(isString),
  }),
);
