/* A character counter on every text field with a length limit, and no silent cut.
 *
 * A browser cuts a paste to the field's maxlength without a word (a 5,000-character note
 * became 2,000). For each input/textarea with maxlength or data-maxlength this script
 * removes maxlength (keeping the limit in data-maxlength), shows "123 / 2,000" under the
 * field, and when the text is too long says by how much; the server refuses it with the
 * field's message and sends back everything typed. Counts characters as the server does
 * (code points; a newline is one). Loaded on every page by base.html; no inline script.
 */
(function () {
  "use strict";
  var TEXT = /^(text|search|email|tel|url|textarea)$/;

  function count(value) {
    return Array.from ? Array.from(value).length : value.length;
  }

  function fmt(n) {
    return n.toLocaleString ? n.toLocaleString("en-US") : String(n);
  }

  function setup(field) {
    var type = field.tagName === "TEXTAREA" ? "textarea" : (field.getAttribute("type") || "text");
    if (!TEXT.test(type) || field.hasAttribute("data-counted")) { return; }
    var max = parseInt(field.getAttribute("data-maxlength") || field.getAttribute("maxlength"), 10);
    if (!max || max <= 0) { return; }
    field.removeAttribute("maxlength");
    field.setAttribute("data-maxlength", String(max));
    field.setAttribute("data-counted", "1");
    var out = document.createElement("span");
    out.className = "char-counter muted small";
    out.id = (field.id || field.name || "field") + "-count";
    out.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", out);
    var described = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (described.indexOf(out.id) === -1) {
      described.push(out.id);
      field.setAttribute("aria-describedby", described.join(" "));
    }
    // Short fields only say something near the limit; long text always shows its count.
    var quiet = max < 500;
    function update() {
      var n = count(field.value || "");
      var over = n - max;
      out.classList.toggle("over", over > 0);
      if (over > 0) {
        field.setAttribute("aria-invalid", "true");
        out.textContent = fmt(n) + " / " + fmt(max) + " characters \u2014 " + fmt(over) +
          " too many: shorten it before sending (nothing is cut)";
      } else {
        if (field.getAttribute("aria-invalid") === "true" && !field.hasAttribute("data-server-error")) {
          field.removeAttribute("aria-invalid");
        }
        out.textContent = (quiet && n < max * 0.8) ? "" : fmt(n) + " / " + fmt(max) + " characters";
      }
    }
    field.addEventListener("input", update);
    field.addEventListener("change", update);
    update();
  }

  function init() {
    Array.prototype.forEach.call(
      document.querySelectorAll("textarea[maxlength], input[maxlength], textarea[data-maxlength], input[data-maxlength]"),
      setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.crmCharCounter = setup;  // for fields added later by other scripts
}());
