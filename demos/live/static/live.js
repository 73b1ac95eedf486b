// One live view (demos/live/view.py): camera -> JPEG frames over a WebSocket -> results shown.
// Runs as Gradio's js_on_load of the view's gr.HTML: `element` is that HTML, `trigger` fires its events.
const view = element.querySelector('.cvlab-live');
const name = view.dataset.view, height = view.dataset.height;
const cam = view.querySelector('.cvlab-live-cam'), out = view.querySelector('.cvlab-live-out');
const info = view.querySelector('.cvlab-live-info');
const access = view.querySelector('.cvlab-live-access'), record = view.querySelector('.cvlab-live-record');
const video = cam.querySelector('video');
if (height) { cam.style.height = height + 'px'; out.style.height = height + 'px'; }
// Two frames in flight hide the network's round trip; when the server itself is the bottleneck the
// second frame only waits there, doubling the delay: above 300 ms of delay keep one in flight, below
// 200 ms two again. ?live_inflight=1|2 fixes it (for measuring).
const FIXED_INFLIGHT = parseInt(new URLSearchParams(location.search).get('live_inflight')) || 0;
let maxInflight = FIXED_INFLIGHT || 2;
// Frames travel at most SEND_WIDTH px wide (the camera's 640x480 -> 480x360): drawing, encoding,
// decoding and painting each frame cost in proportion to its pixels, on the visitor's side as on the
// server's, and every model here works below that size anyway. ?live_width=640 sends the full frame.
const SEND_WIDTH = parseInt(new URLSearchParams(location.search).get('live_width')) || 480;
function adapt() {
  if (FIXED_INFLIGHT || delays.length < 8) return;
  const d = delays.slice(-8).sort((a, b) => a - b)[4];
  if (d > 300) maxInflight = 1; else if (d < 200) maxInflight = 2;
}
let stream = null, ws = null, running = false, seq = 0, inflight = 0, sentAt = new Map(), img = null;
let fresh = false, frameAt = 0, loopId = 0, urls = [], loading = false, next = null;
// per-frame stage times (ms, page clock) for the benchmark: window.cvlabLive[name].frames
const stats = (window.cvlabLive = window.cvlabLive || {})[name] = {frames: [], pending: new Map()};
function stage(id, key, t) {
  const f = stats.pending.get(id); if (f) f[key] = t === undefined ? performance.now() : t;
}
function finish(id) {
  const f = stats.pending.get(id); if (!f) return;
  stats.pending.delete(id); stats.frames.push(f); if (stats.frames.length > 300) stats.frames.splice(0, 100);
}
let shown = [], delays = [], serverText = '', serverMs = [], lastInfo = 0, gotFrame = false;
const canvas = document.createElement('canvas'), ctx = canvas.getContext('2d');
function md(s) {
  const esc = String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc.replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
}
function setInfo(force) {
  const now = performance.now();
  if (!force && now - lastInfo < 250) return;
  lastInfo = now;
  shown = shown.filter(t => now - t < 3000);
  const fps = shown.length > 1 ? (shown.length - 1) * 1000 / (shown[shown.length - 1] - shown[0]) : 0;
  const d = delays.slice(-30).sort((a, b) => a - b), delay = d.length ? d[Math.floor(d.length / 2)] : null;
  const head = running ? (shown.length > 1 ? `<b>${fps.toFixed(1)} fps shown</b> in this browser`
                                          : 'first frame shown, measuring the frame rate…') +
    (delay !== null ? ` · ${Math.round(delay)} ms from camera to screen` : '') : '';
  info.innerHTML = [head, md(serverText)].filter(Boolean).join(' · ');
}
function fallback(reason) {
  running = false;
  cam.classList.remove('recording');
  serverText = `The fast live connection could not be opened here (${reason}); ` +
               "use Gradio's own stream below (slower): click its camera, then Record.";
  setInfo(true);
  const acc = document.getElementById(`${name}-live-fallback`);
  const label = acc && acc.querySelector('.label-wrap, button');
  if (label && !label.classList.contains('open')) label.click();
}
function capture() {
  if (!running || !ws || ws.readyState !== 1) return;
  if (!fresh || inflight >= maxInflight || !video.videoWidth) return;   // each camera frame at most once
  fresh = false;
  const scale = Math.min(1, SEND_WIDTH / video.videoWidth);
  const w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
  const id = ++seq, t = frameAt;
  inflight++;
  stats.pending.set(id, {frame: t, drawn: performance.now()});
  sentAt.set(id, t);
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  ctx.setTransform(-1, 0, 0, 1, w, 0);          // mirrored, like a mirror (and like Gradio's webcam)
  ctx.drawImage(video, 0, 0, w, h);
  // encoded on this thread, as Gradio's webcam does (a worker with OffscreenCanvas was tried: on one
  // busy browser core it was no faster, 2-16 fps against 3-12 in the same run; canvas.toBlob took
  // 72 ms to call back against 12-16 ms for toDataURL, and showed 11 fps against 15-17)
  const b64 = canvas.toDataURL('image/jpeg', 0.8);
  const bin = atob(b64.slice(b64.indexOf(',') + 1));
  const msg = new Uint8Array(4 + bin.length);
  new DataView(msg.buffer).setUint32(0, id, true);
  for (let i = 0; i < bin.length; i++) msg[4 + i] = bin.charCodeAt(i);
  stage(id, 'encoded');
  ws.send(msg);
}
function watchCamera() {
  const id = ++loopId;
  const onFrame = () => {
    if (!running || id !== loopId) return;
    fresh = true; frameAt = performance.now();   // when this camera frame reached the page
    capture();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
function show(id, jpeg) {
  // one image decoding at a time: a frame arriving meanwhile waits, and a newer one replaces it
  // (setting a new src while the last one still loads would cancel that one: it would never be seen)
  if (loading) { if (next) { sentAt.delete(next.id); stats.pending.delete(next.id); } next = {id, jpeg}; return; }
  loading = true;
  const url = URL.createObjectURL(new Blob([jpeg], {type: 'image/jpeg'}));
  if (!img) { img = document.createElement('img'); img.alt = 'live result'; out.appendChild(img); }
  const t0 = sentAt.get(id);
  sentAt.delete(id);
  urls.push(url);
  const done = (ok) => {
    const now = performance.now();
    if (ok) {
      shown.push(now);
      if (t0 !== undefined) delays.push(now - t0);
      if (delays.length > 100) delays.splice(0, 50);
      stage(id, 'shown', now); finish(id);
      adapt();
    }
    while (urls.length > 1) URL.revokeObjectURL(urls.shift());   // every frame before this one
    loading = false;
    setInfo(false);
    if (next) { const f = next; next = null; show(f.id, f.jpeg); }
  };
  img.onload = () => done(true);
  img.onerror = () => done(false);
  img.src = url;
}
async function onMessage(ev) {
  const buf = ev.data, dv = new DataView(buf);
  const id = dv.getUint32(0, true), n = dv.getUint32(4, true);
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  stage(id, 'received'); stage(id, 'server', meta.ms);
  (meta.dropped || []).forEach(d => stats.pending.delete(d));
  if (meta.end) { serverText = meta.end; stop(); return; }
  inflight = Math.max(0, inflight - 1 - (meta.dropped ? meta.dropped.length : 0));
  (meta.dropped || []).forEach(d => sentAt.delete(d));
  if (meta.text !== undefined) serverText = meta.text;
  if (buf.byteLength > 8 + n) { gotFrame = true; show(id, new Uint8Array(buf, 8 + n)); }
  else { sentAt.delete(id); setInfo(false); }
  capture();
}
function stop() {
  running = false;
  cam.classList.remove('recording');
  record.textContent = 'Record';
  if (ws) { try { ws.close(); } catch (e) {} ws = null; }
  inflight = 0; sentAt.clear(); next = null;
  setInfo(true);
}
function start() {
  if (new URLSearchParams(location.search).get('live') === 'gradio') { fallback('turned off by ?live=gradio'); return; }
  // 128 random bits, hex: the page's secret for this stream (sent as the socket's first message, never in a URL)
  const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
  trigger('submit', {token});                    // registers this view's settings under the token
  const base = location.pathname.replace(/\/+$/, '');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}/cvlab/live/${name}`;
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  running = true; gotFrame = false; seq = 0; inflight = 0; shown = []; delays = [];
  cam.classList.add('recording');
  serverText = 'Connecting…'; setInfo(true);
  record.textContent = 'Stop';
  const opened = ws;
  ws.onopen = () => { if (ws === opened) { ws.send(token); serverText = 'Waiting for the first frame…';
                                           setInfo(true); watchCamera(); } };
  ws.onmessage = onMessage;
  ws.onerror = () => {};
  ws.onclose = (ev) => {
    if (ws !== opened) return;
    const wasRunning = running;
    ws = null;
    if (ev.code === 4429) { serverText = ev.reason; stop(); }   // a server limit: say it, no fallback
    else if (wasRunning && !gotFrame) fallback(ev.reason || `WebSocket closed, code ${ev.code}`);
    else if (wasRunning) { serverText = 'The live connection closed: press Record again.'; stop(); }
  };
}
access.addEventListener('click', async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
  } catch (e) {
    serverText = `The camera could not be opened (${e.name || e}). Allow camera access and try again.`;
    setInfo(true); return;
  }
  video.srcObject = stream;
  video.muted = true;
  await video.play().catch(() => {});
  access.hidden = true;
  record.hidden = false;
});
record.addEventListener('click', () => { running ? stop() : start(); });
