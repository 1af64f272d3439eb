/*
 * A count the browser writes ("2 kontrolpunkti …") in the grammatical form the server would
 * choose. The page gives, in a data attribute, what portal.templating.count_forms renders: the
 * message's forms in the page's language and, for every n from 0 to 199, which form the
 * server's own plural rule (the catalogue's) picks. A larger n takes the form of
 * 100 + n % 100: the rules of the portal's languages depend only on n % 10, n % 100 and small n.
 * Latvian has three forms (0, 10–20, …0: "kontrolpunktu"; 1, 21, …: "kontrolpunkts";
 * 2–9, 22, …: "kontrolpunkti"), so no rule is written twice here.
 */
(function (root) {
  "use strict";

  function countText(table, n) {
    var count = Math.max(0, Math.floor(Number(n) || 0));
    var at = count < 200 ? count : 100 + (count % 100);
    var form = table.forms[Number(table.of.charAt(at))] || table.forms[table.forms.length - 1];
    return form.split("%(num)s").join(String(count));
  }

  var api = { text: countText };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else {
    root.RefCounts = api;
  }
})(this);
