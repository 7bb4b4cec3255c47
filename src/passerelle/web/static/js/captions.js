/* Live captions and translated chat on a live room page.
 *
 * The room's WebSocket carries the events of passerelle.captions:
 *   {"type": "caption", "lang", "text", "original", "start", "end", ...}   one caption line per language
 *   {"type": "caption_status", "targets": {"es": "ok", "zh": "unsupported_pair"}, ...}
 * The viewer picks a language in <select data-caption-language>; the page tells the server with
 * {"type": "caption_language", "lang", "previous"} so the pipeline translates into it. Captions
 * show in [data-captions] (under the video); when no engine translates into the viewer's language,
 * the original captions show instead. Chat lines: showChat(element, chat_translation event) puts
 * the viewer's language in the line and keeps the original on hover (title) and on tap (toggle). */
(function () {
  "use strict";

  var STORAGE_KEY = "passerelle.captionLang";
  var CLEAR_AFTER_MS = 7000;

  function storedLanguage() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }

  function store(lang) {
    try { window.localStorage.setItem(STORAGE_KEY, lang); } catch (e) { /* private mode: no memory */ }
  }

  function attach(socket, root) {
    var box = root.querySelector("[data-captions]");
    var picker = root.querySelector("[data-caption-language]");
    var state = {
      lang: storedLanguage() || (picker && picker.value) || document.documentElement.lang || "en",
      unsupported: {},
      timer: null
    };
    if (picker) { picker.value = state.lang; }

    function announce(previous) {
      try {
        socket.send(JSON.stringify({ type: "caption_language", lang: state.lang, previous: previous }));
      } catch (e) { /* not open yet: the open handler announces */ }
    }

    function show(event) {
      if (!box) { return; }
      box.textContent = event.text;
      box.setAttribute("lang", event.lang);
      box.setAttribute("data-original", event.original ? "true" : "false");
      window.clearTimeout(state.timer);
      state.timer = window.setTimeout(function () { box.textContent = ""; }, CLEAR_AFTER_MS);
    }

    function onEvent(event) {
      if (event.type === "caption_status" && event.targets) {
        state.unsupported = {};
        Object.keys(event.targets).forEach(function (lang) {
          state.unsupported[lang] = event.targets[lang] === "unsupported_pair";
        });
      } else if (event.type === "caption") {
        if (event.lang === state.lang || (event.original && state.unsupported[state.lang])) { show(event); }
      }
    }

    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event && typeof event === "object") { onEvent(event); }
    });
    socket.addEventListener("open", function () { announce(null); });
    if (picker) {
      picker.addEventListener("change", function () {
        var previous = state.lang;
        state.lang = picker.value;
        store(state.lang);
        if (box) { box.textContent = ""; }
        announce(previous);
      });
    }
    return {
      language: function () { return state.lang; },
      handle: onEvent
    };
  }

  function showChat(element, event, lang) {
    var viewerLang = lang || storedLanguage() || document.documentElement.lang || "en";
    var translated = (event.texts && event.texts[viewerLang]) || event.original;
    element.textContent = translated;
    element.setAttribute("data-translated", translated !== event.original ? "true" : "false");
    if (translated !== event.original) {
      element.title = event.original;  // hover shows the original
      element.onclick = function () {  // tap toggles it
        element.textContent = element.textContent === translated ? event.original : translated;
      };
    }
  }

  window.passerelleCaptions = { attach: attach, showChat: showChat };
})();
