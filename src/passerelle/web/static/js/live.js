// Live room page: HLS video (native or vendored hls.js), chat and reactions over one WebSocket.
// Every text from the server goes through textContent: chat can never inject markup.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  if (!root) return;
  var video = root.querySelector("[data-live-video]");
  var offline = root.querySelector("[data-live-offline]");
  var badge = root.querySelector("[data-live-badge]");
  var list = root.querySelector("[data-chat-list]");
  var notice = root.querySelector("[data-chat-notice]");
  var form = root.querySelector("[data-chat-form]");
  var hlsUrl = root.dataset.hlsUrl;
  var me = null, moderator = false, socket = null, hls = null, retry = 1000, banned = false, noticeTimer = 0;
  var totals = {};
  // Captions and chat translation (captions.js): attached once; `link` forwards to whichever socket is open.
  var link = { opened: [], addEventListener: function (type, fn) { if (type === "open") link.opened.push(fn); },
               send: function (data) { if (socket && socket.readyState === WebSocket.OPEN) socket.send(data); } };
  var captions = window.passerelleCaptions ? window.passerelleCaptions.attach(link, root) : null;

  function text(key) { return root.getAttribute("data-msg-" + key) || root.getAttribute("data-msg-error"); }

  function say(code) {
    notice.textContent = text(code);
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.textContent = ""; }, 6000);
  }

  // --- video ---
  function startVideo() {
    offline.hidden = true;
    video.hidden = false;
    if (hls || video.src) return;
    // hls.js wherever Media Source Extensions exist: Chromium answers "maybe" to native HLS
    // yet fails to demux it. Native playback is for iOS Safari, which has no MSE.
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ enableWorker: false, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 30, manifestLoadingRetryDelay: 1000 });
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (!data.fatal) return;
        // The first segments may not exist yet when the encoder has just started: try again.
        stopVideo(true);
        setTimeout(function () { if (root.dataset.onAir === "true") startVideo(); }, 1500);
      });
      hls.loadSource(hlsUrl);
      hls.attachMedia(video);
    } else {
      video.src = hlsUrl;
      video.play().catch(function () {});
    }
  }

  function stopVideo(keepShown) {
    if (hls) { hls.destroy(); hls = null; }
    if (video.src) { video.removeAttribute("src"); video.load(); }
    if (!keepShown) { video.hidden = true; offline.hidden = false; }
  }

  function showStatus(status, onAir) {
    root.dataset.onAir = onAir ? "true" : "false";
    root.dataset.status = status;
    badge.textContent = status === "ended" ? text("ended") : onAir ? text("live") : text("offline");
    badge.className = "badge " + (onAir ? "badge-danger" : "badge-muted");
    if (onAir) startVideo(); else stopVideo(false);
  }

  // --- chat ---
  function addMessage(message) {
    var item = document.createElement("li");
    item.className = "chat-item";
    item.dataset.messageId = message.id;
    var author = document.createElement("strong");
    author.className = "chat-author";
    author.textContent = message.user && message.user.name ? message.user.name : "?";
    var body = document.createElement("span");
    body.className = "chat-text";
    body.textContent = message.text;
    item.appendChild(author);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(body);
    if (moderator && message.user && me && message.user.id !== me.id) {
      ["mute", "ban"].forEach(function (kind) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button chat-mod";
        button.textContent = text(kind);
        button.addEventListener("click", function () { send({ type: kind, user_id: message.user.id }); });
        item.appendChild(button);
      });
    }
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(item);
    while (list.children.length > 200) list.removeChild(list.firstChild);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function translateMessage(event) {
    var item = list.querySelector('[data-message-id="' + CSS.escape(String(event.message_id)) + '"] .chat-text');
    if (item && captions) window.passerelleCaptions.showChat(item, event, captions.language());
  }

  function handle(event) {
    switch (event.type) {
      case "hello": me = event.user; moderator = !!event.moderator; break;
      case "history": list.textContent = ""; event.messages.forEach(addMessage); break;
      case "message": addMessage(event); break;
      case "viewers": root.querySelector("[data-live-viewers]").textContent = String(event.count); break;
      case "reactions":
        Object.keys(event.counts).forEach(function (kind) {
          totals[kind] = (totals[kind] || 0) + event.counts[kind];
          var counter = root.querySelector('[data-react-count="' + kind + '"]');
          if (counter) counter.textContent = String(totals[kind]);
        });
        break;
      case "status": showStatus(event.status, event.on_air); break;
      case "error": if (event.code === "banned") banned = true; say(event.code); break;
      case "chat_translation": translateMessage(event); break;
      default: if (captions) captions.handle(event);
    }
    root.dispatchEvent(new CustomEvent("live-event", { detail: event }));  // live_shop.js renders pins, deals, auctions
  }

  function send(command) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(command));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsUrl);
    socket.addEventListener("open", function () {
      retry = 1000; root.dataset.connected = "true";
      link.opened.forEach(function (fn) { fn(); });  // captions.js tells the server the viewer's language
    });
    socket.addEventListener("message", function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (error) { return; }
      (Array.isArray(frame) ? frame : [frame]).forEach(handle);
    });
    socket.addEventListener("close", function (closed) {
      root.dataset.connected = "false";
      if (closed.code === 4403 || banned) { banned = true; if (form) form.hidden = true; say("banned"); return; }
      if (closed.code === 4404) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.elements.text;
      var value = input.value.trim();
      if (!value) return;
      send({ type: "message", text: value });
      input.value = "";
    });
  }
  root.querySelectorAll("[data-react]").forEach(function (button) {
    button.addEventListener("click", function () { send({ type: "react", kind: button.dataset.react }); });
  });

  if (root.dataset.onAir === "true") startVideo();
  connect();
})();
