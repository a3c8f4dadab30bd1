// Regenerates scripts/gpu/matmul.onnx (run here, where node_modules/onnx-proto exists):
//   node scripts/gpu/make-matmul-onnx.cjs
// Model: Y = MatMul(A[M,K], B[K,N]) + C[N], float32, opset 21, IR 10, symbolic dims M,K,N.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { onnx } = require('onnx-proto');

const F = onnx.TensorProto.DataType.FLOAT;
const vi = (name, dims) => ({
  name,
  type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimParam: d })) } } },
});
const model = {
  irVersion: 10,
  producerName: 'ftlab-gpu-smoke',
  producerVersion: '1',
  opsetImport: [{ domain: '', version: 21 }],
  graph: {
    name: 'matmul_add',
    node: [
      { opType: 'MatMul', input: ['A', 'B'], output: ['T'], name: 'mm' },
      { opType: 'Add', input: ['T', 'C'], output: ['Y'], name: 'add' },
    ],
    input: [vi('A', ['M', 'K']), vi('B', ['K', 'N']), vi('C', ['N'])],
    output: [vi('Y', ['M', 'N'])],
  },
};
const err = onnx.ModelProto.verify(model);
if (err) throw new Error(err);
const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
const out = path.join(__dirname, 'matmul.onnx');
fs.writeFileSync(out, bytes);
console.log(`wrote ${out} (${bytes.length} bytes)`);
