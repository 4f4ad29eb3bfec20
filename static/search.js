/* Search as you type, for every page that offers it (people on the contact form, members on
 * a group page): debounced, at least two characters, one JSON GET at a time with the
 * newest answer winning. The pages work without it (plain lists and forms).
 *
 *   crmSearch(input, url, {onResults(data, query), onClear(), onStart(query), onError(query)})
 *
 * No inline script, no eval: CSP script-src 'self'.
 */
(function () {
  "use strict";
  window.crmSearch = function (input, url, opts) {
    var min = opts.min || 2;
    var timer = null;
    var seq = 0;
    var last = null;

    function run() {
      var query = input.value.trim();
      if (query === last) { return; }
      last = query;
      if (query.length < min) { seq++; if (opts.onClear) { opts.onClear(); } return; }
      var mine = ++seq;
      if (opts.onStart) { opts.onStart(query); }
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: {"Accept": "application/json"}
      }).then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) { if (mine === seq) { opts.onResults(data, query); } })
        .catch(function () { if (mine === seq && opts.onError) { opts.onError(query); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, opts.delay || 200);
    });
    return {forget: function () { last = null; }};
  };
}());
