// frames shown by the fallback stream, counted here in the browser (not the server's rate)
const line = element;
let shown = [], last = null;
function hook() {
  const out = document.getElementById('__OUT__');
  if (!out) { setTimeout(hook, 500); return; }
  out.addEventListener('load', (ev) => {
    if (!(ev.target instanceof HTMLImageElement) || ev.target.src === last) return;
    last = ev.target.src;
    const now = performance.now();
    shown.push(now); shown = shown.filter(t => now - t < 3000);
    if (shown.length > 1) {
      const fps = (shown.length - 1) * 1000 / (now - shown[0]);
      line.innerHTML = `<b>${fps.toFixed(1)} fps shown</b> in this browser (Gradio stream)`;
    }
  }, true);
}
hook();
