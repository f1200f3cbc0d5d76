// Keyboard shortcuts for the review page (the page works without them).
// m / n / u press the decision buttons; j / k move between candidates.
document.addEventListener("keydown", function (e) {
  var t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) return;
  var button = document.querySelector('button[data-key="' + e.key + '"]');
  if (button) { e.preventDefault(); button.click(); return; }
  if (e.key === "j" || e.key === "k") {
    var links = Array.prototype.slice.call(document.querySelectorAll("a.cand"));
    var i = links.findIndex(function (a) { return a.classList.contains("current"); });
    var next = links[i + (e.key === "j" ? 1 : -1)];
    if (next) { e.preventDefault(); window.location = next.href; }
  }
});
