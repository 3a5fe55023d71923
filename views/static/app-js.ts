/**
 * The panel's only own script, served as /static/app.js (an external file: the CSP allows no inline scripts, and
 * htmx's hx-on would need eval). Kept as a string here so it is embedded in the executable like the other assets.
 */
export const APP_JS = `// lteproxy panel helpers. External file: the CSP allows no inline scripts (and htmx's hx-on would need eval).
// Copy buttons: <button data-copy="#input-id">.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallback());
  } else fallback();
  function fallback() {
    if ("select" in source) source.select();
    try {
      document.execCommand("copy");
      done();
    } catch {
      button.textContent = "Select + Ctrl-C";
    }
  }
});
// Clear the flash area after a while, so an old error does not linger.
document.addEventListener("htmx:after:swap", (event) => {
  const flash = document.getElementById("flash");
  if (flash && flash.childElementCount && event.target === flash) setTimeout(() => (flash.innerHTML = ""), 8000);
});
`;
