// The npm `ws` client against fastfork's ws_echo (driven by test_websocket_node.py):
// echo of text and binary 0 B-16 MiB with and without permessage-deflate, fragmented sends,
// ping/pong and a close code. Prints one line per check; exits non-zero on the first failure.
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');
const assert = require('assert');

const url = process.argv[2];
const sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20];

function open(deflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 0 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
function next(ws) {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

async function echoAll(deflate) {
  const ws = await open(deflate);
  const ext = ws.extensions;
  for (const n of sizes) {
    const b = crypto.randomBytes(n);
    ws.send(b, { binary: true });
    let r = await next(ws);
    assert.ok(r.isBinary && Buffer.compare(r.data, b) === 0, `binary ${n}`);
    const t = 'ü'.repeat(n >> 1);
    ws.send(t);
    r = await next(ws);
    assert.ok(!r.isBinary && r.data.toString() === t, `text ${n}`);
  }
  // Fragmented: ws sends a message in frames with fin=false until the last.
  ws.send('frag', { fin: false });
  ws.send('ment', { fin: true });
  const r = await next(ws);
  assert.strictEqual(r.data.toString(), 'fragment');
  // Ping → pong with the same payload.
  const pong = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping(Buffer.from('hello?'));
  assert.strictEqual((await pong).toString(), 'hello?');
  // Close code echoed back.
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(4000, 'done');
  assert.strictEqual(await closed, 4000);
  console.log(`ok deflate=${deflate} extensions=${JSON.stringify(ext)}`);
  return ext;
}

(async () => {
  const plain = await echoAll(false);
  assert.strictEqual(plain, '');
  const z = await echoAll(true);
  assert.ok(z.includes('permessage-deflate'), z);
  console.log('all ok');
})().catch((e) => {
  console.error('FAILED:', e && e.stack ? e.stack : e);
  process.exit(1);
});
