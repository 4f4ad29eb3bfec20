/* "Beat: 1622" before sending: the beat the contact will be filed on, as groups are picked.
 *
 * Mirrors crm.contacts.services.pick_beat: the beat every chosen group shares wins; of
 * several shared beats, the one the officer works (if exactly one); no group on a beat ->
 * the officer's first beat; groups that disagree -> the officer will be asked. A beat picked
 * in the select wins. People's groups are ticked by contacts.js, so the groups say it all.
 * Groups come with data-beats="1622 1623" (codes); the officer's beats in
 * #beat-preview[data-own]. No inline script, no CDN.
 */
(function () {
  "use strict";
  var preview = document.getElementById("beat-preview");
  var form = document.getElementById("contact-form");
  if (!preview || !form) { return; }
  var codeEl = document.getElementById("beat-preview-code");
  var whyEl = document.getElementById("beat-preview-why");
  var select = document.getElementById("beat_id");
  var choice = document.getElementById("beat-choice");
  var own = (preview.getAttribute("data-own") || "").split(/\s+/).filter(Boolean);

  function words(s) { return (s || "").split(/\s+/).filter(Boolean); }

  function pick() {
    var sets = [], unknown = false;
    Array.prototype.forEach.call(form.querySelectorAll('input[name="group_ids"]:checked'),
      function (box) {
        if (!box.hasAttribute("data-beats")) { unknown = true; return; }
        var beats = words(box.getAttribute("data-beats"));
        if (beats.length) { sets.push(beats); }
      });
    if (!sets.length) {
      return unknown ? {code: "from the groups", why: "decided when you send"}
        : {code: own[0] || "none", why: "your beat (no group chosen on a beat)"};
    }
    var common = sets.reduce(function (acc, s) {
      return acc.filter(function (c) { return s.indexOf(c) !== -1; });
    });
    if (common.length === 1) { return {code: common[0], why: "where the groups chosen are"}; }
    if (common.length) {
      var mine = common.filter(function (c) { return own.indexOf(c) !== -1; });
      if (mine.length === 1) { return {code: mine[0], why: "your beat among the groups' beats"}; }
    }
    var all = (common.length ? common : [].concat.apply([], sets)).filter(function (c, i, a) {
      return a.indexOf(c) === i;
    }).sort();
    return {code: "choose", why: "the groups chosen are on beats " + all.join(", ") +
            ": choose the beat where the contact happened", ask: true};
  }

  function update() {
    var chosen = select && select.value ? select.options[select.selectedIndex] : null;
    var result = chosen ? {code: chosen.getAttribute("data-code") || chosen.textContent,
                           why: "chosen by you"} : pick();
    codeEl.textContent = result.code;
    whyEl.textContent = result.why;
    if (result.ask && choice) { choice.open = true; }
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  // Picking a person ticks their groups from script (no change event): look after the tap.
  form.addEventListener("click", function () { window.setTimeout(update, 0); });
  // contacts.js adds group boxes when a person is picked: watch the list as well.
  var list = document.getElementById("group-list");
  if (list && window.MutationObserver) {
    new MutationObserver(update).observe(list, {childList: true, subtree: true,
                                                attributes: true, attributeFilter: ["checked"]});
  }
  update();
}());
