// Graph IR -> ONNX ModelProto bytes (opset 21, IR 10) through onnx-proto.

import { writeFileSync, renameSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { Attr, Graph, TypedArray, Value } from './graph';
import { ONNX_DTYPE } from './builder';

export const OPSET = 21;
export const IR_VERSION = 10;

function valueInfo(v: Value): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function tensorProto(v: Value, data: TypedArray): onnx.ITensorProto {
  return {
    name: v.name,
    dataType: ONNX_DTYPE[v.dtype],
    dims: [...v.shape],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function attrProto(name: string, a: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: a.v };
    case 'float': return { name, type: T.FLOAT, f: a.v };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.v) };
    case 'ints': return { name, type: T.INTS, ints: a.v };
    case 'floats': return { name, type: T.FLOATS, floats: a.v };
    case 'graph': return { name, type: T.GRAPH, g: graphProto(a.v) };
  }
}

function graphProto(g: Graph): onnx.IGraphProto {
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      opType: n.op,
      name: n.name,
      input: n.inputs.map((x) => (x ? x.name : '')),
      output: n.outputs.map((y) => y.name),
      attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a)),
    })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: g.constants.map((c) => tensorProto(c.value, c.data)),
  };
}

export function toModelProto(g: Graph): Uint8Array {
  if (g.parent) throw new Error('toModelProto: expected a root graph');
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'finetune-lab',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: graphProto(g),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Writes the model to a .onnx file (opens in Netron) for debugging; atomic. */
export function dumpModel(g: Graph, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, toModelProto(g));
  renameSync(tmp, path);
}
