// The browser terminal: xterm.js wired to the board's WebSocket (binary frames both ways,
// JSON text frames for window size). Loaded by /terminal; nothing comes from elsewhere.
(function () {
  "use strict";
  var box = document.getElementById("terminal");
  if (!box || typeof Terminal === "undefined") { return; }
  var term = new Terminal({cols: 80, rows: 25, convertEol: false, cursorBlink: true,
    fontFamily: "'DejaVu Sans Mono', 'Courier New', monospace", scrollback: 500});
  term.open(box);
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + location.host + "/terminal/ws?term=xterm-256color&cols=" +
    term.cols + "&rows=" + term.rows;
  var ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  var encoder = new TextEncoder();
  ws.onmessage = function (event) {
    if (event.data instanceof ArrayBuffer) { term.write(new Uint8Array(event.data)); }
  };
  ws.onclose = function () { term.write("\r\n\r\n[connexion terminee / connection closed]\r\n"); };
  term.onData(function (data) {
    if (ws.readyState === WebSocket.OPEN) { ws.send(encoder.encode(data)); }
  });
  term.onBinary(function (data) {
    var bytes = new Uint8Array(data.length);
    for (var i = 0; i < data.length; i++) { bytes[i] = data.charCodeAt(i) & 255; }
    if (ws.readyState === WebSocket.OPEN) { ws.send(bytes); }
  });
  term.onResize(function (size) {
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({type: "resize", cols: size.cols, rows: size.rows}));
    }
  });
  window.lotusTerminal = term;
  term.focus();
})();
