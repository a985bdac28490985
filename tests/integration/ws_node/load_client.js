// WebSocket echo load (bench/ws_echo.sh): `node load_client.js URL CONNECTIONS SECONDS SIZE`
// keeps one message in flight per connection (send, wait for the echo, send again) and prints
// {"messages": N, "seconds": S}. Or `... URL COUNT idle`: opens COUNT idle WebSockets, prints
// "open", and holds them until stdin closes.
'use strict';
const WebSocket = require('ws');
const [url, countArg, secondsArg, sizeArg] = process.argv.slice(2);
const count = Number(countArg);

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

(async () => {
  const conns = [];
  for (let i = 0; i < count; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 100); ++j) batch.push(open());
    conns.push(...(await Promise.all(batch)));
  }
  if (secondsArg === 'idle') {
    console.log('open');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  const payload = Buffer.alloc(Number(sizeArg), 'x');
  let messages = 0;
  let running = true;
  const t0 = process.hrtime.bigint();
  for (const ws of conns) {
    ws.on('message', () => {
      ++messages;
      if (running) ws.send(payload, { binary: true });
    });
    ws.send(payload, { binary: true });
  }
  setTimeout(() => {
    running = false;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ messages, seconds }));
    process.exit(0);
  }, Number(secondsArg) * 1000);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
