// Asking for CUDA where it cannot load: a message naming what is missing, and training on the CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCuda } from '../../src/engine/runtime/cuda';
import { createSession } from '../../src/engine/runtime/session';
import { toModelProto } from '../../src/engine/graph/serialize';
import { newBuilder } from './harness';

test('without the CUDA provider or libraries, cuda falls back to the CPU with a message that says what is missing', async (t) => {
  const chk = checkCuda();
  if (chk.ok) { t.skip('this machine has a usable CUDA setup'); return; }
  assert.match(chk.message, /CUDA is not usable/);
  assert.ok(chk.missingProviderFiles.length || chk.missingLibraries.length);
  for (const f of [...chk.missingProviderFiles, ...chk.missingLibraries]) assert.ok(chk.message.includes(f), f);
  const b = newBuilder();
  const x = b.input('x', 'float32', [2]);
  b.graph.outputs = [b.add(x, x)];
  const said: string[] = [];
  const s = await createSession(toModelProto(b.graph), { device: 'cuda', onFallback: (m) => said.push(m) });
  assert.equal(s.device, 'cpu');
  assert.deepEqual(said, [chk.message]);
});
