// Tell the server the browser's time zone, so the next tracking pages show times in it.
// No reload here: the page may be the answer to a form post.
(function () {
  "use strict";
  if (document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; })) return;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
  document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax";
})();
