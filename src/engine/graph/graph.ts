// Graph IR: typed values with static shapes, nodes in topological (construction) order,
// constants, and nested subgraphs (Loop bodies) that may read values of enclosing graphs.

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint32' | 'bool';
export type Shape = readonly number[];
export type TypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint32Array | Uint8Array;

export interface Value {
  readonly id: number;
  name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly graph: Graph;
  producer?: Node;
}

export type Attr =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'string'; v: string }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'graph'; v: Graph };

export interface Node {
  readonly op: string;
  readonly name: string;
  /** `null` is an omitted optional input (serialized as ''). */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export interface Constant {
  readonly value: Value;
  readonly data: TypedArray;
}

/**
 * A run of nodes (graph.nodes[start..end)) that the backward pass recomputes from `inputs` instead of
 * reading the values they saved (gradient checkpointing): only `output` may be read after it.
 */
export interface Segment {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** What the segment reads that its recomputation takes anew (the residual stream, a dropout key). */
  readonly inputs: readonly Value[];
  readonly output: Value;
}

let nextId = 1;

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  outputs: Value[] = [];
  readonly constants: Constant[] = [];
  /** Recomputed segments (gradient checkpointing), in node order. */
  readonly segments: Segment[] = [];
  private readonly names = new Set<string>();

  constructor(readonly name: string, readonly parent?: Graph) {}

  /** Data of a constant created by the builder (constants live in the root graph). */
  constantData(v: Value): TypedArray | undefined {
    return this.root().constants.find((c) => c.value === v)?.data;
  }

  root(): Graph {
    return this.parent ? this.parent.root() : this;
  }

  /** True when `v` may be read by nodes of this graph (its own, or an enclosing graph's). */
  canSee(v: Value): boolean {
    for (let g: Graph | undefined = this; g; g = g.parent) if (v.graph === g) return true;
    return false;
  }

  uniqueName(base: string): string {
    const root = this.root();
    let name = base;
    for (let i = 1; root.names.has(name); i++) name = `${base}_${i}`;
    root.names.add(name);
    return name;
  }

  newValue(name: string, dtype: DType, shape: Shape): Value {
    for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`bad dimension ${d} in shape [${shape}] of ${name}`);
    return { id: nextId++, name: this.uniqueName(name), dtype, shape: [...shape], graph: this };
  }

  /** A graph input; top-level inputs keep their exact name (they are the session's feed names). */
  addInput(name: string, dtype: DType, shape: Shape, exactName = true): Value {
    const v = this.newValue(name, dtype, shape);
    if (exactName && v.name !== name) throw new Error(`graph input name '${name}' is already taken`);
    this.inputs.push(v);
    return v;
  }

  addNode(op: string, inputs: (Value | null)[], outputs: Value[], attrs: Record<string, Attr>, name: string): Node {
    for (const x of inputs) {
      if (x && !this.canSee(x)) throw new Error(`${op} node '${name}' reads '${x.name}', which is not visible from graph '${this.name}'`);
    }
    const node: Node = { op, name: this.uniqueName(name), inputs, outputs, attrs };
    for (const y of outputs) y.producer = node;
    this.nodes.push(node);
    return node;
  }
}

export const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export function arrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': return new Uint16Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16';
