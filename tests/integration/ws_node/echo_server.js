// The npm `ws` echo server the WebSocket benchmark compares against (bench/ws_echo.sh): echoes
// every message as it came, permessage-deflate off (as the benchmark's clients ask for none).
'use strict';
const WebSocket = require('ws');
const port = Number(process.argv[2]);
const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 16 << 20 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log('listening'));
