/* The shopping assistant widget: POST /api/v1/assistant/messages, answers shown as text
   (never HTML), product cards and links built node by node. */
(function () {
  "use strict";

  var root = document.querySelector("[data-assistant]");
  if (!root || !window.fetch) { return; }
  root.hidden = false;
  var toggle = root.querySelector(".assistant-toggle");
  var panel = root.querySelector(".assistant-panel");
  var log = root.querySelector(".assistant-log");
  var form = root.querySelector(".assistant-form");
  var input = form.querySelector("input[name=text]");
  var seen = {};
  var poller = null;
  var STORE = "passerelle.assistant.conversation";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) { return ""; }
  }

  function productOnPage() {
    var match = /^\/p\/(\d+)/.exec(window.location.pathname);
    return match ? Number(match[1]) : null;
  }

  function safeUrl(url) {
    return typeof url === "string" && (/^\/(?!\/)/.test(url) || /^https?:\/\//.test(url)) ? url : null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function money(price) {
    if (!price) { return ""; }
    try {
      var digits = { JPY: 0, KRW: 0, HUF: 0, ISK: 0 }[price.currency];
      var exp = digits === undefined ? 2 : digits;
      return new Intl.NumberFormat(document.documentElement.lang || "fr", { style: "currency", currency: price.currency })
        .format(price.amount / Math.pow(10, exp));
    } catch (e) { return price.amount + " " + price.currency; }
  }

  function card(product) {
    var item = el("li", "assistant-card");
    var link = el("a");
    var url = safeUrl(product.url) || "/p/" + Number(product.id);
    link.href = url;
    if (product.image_url && safeUrl(product.image_url)) {
      var img = el("img");
      img.src = product.image_url;
      img.alt = "";
      img.loading = "lazy";
      link.appendChild(img);
    }
    link.appendChild(el("span", "assistant-card-title", product.title));
    link.appendChild(el("span", "assistant-card-price", money(product.price)));
    item.appendChild(link);
    return item;
  }

  function say(who, text, kind) {
    var item = el("li", "assistant-msg assistant-" + kind);
    item.appendChild(el("span", "visually-hidden", who + " : "));
    item.appendChild(el("p", null, text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function answer(data) {
    var item = say(root.dataset.bot, data.reply, "bot");
    item.setAttribute("data-intent", data.intent || "");
    if (data.products && data.products.length) {
      var cards = el("ul", "assistant-cards");
      data.products.forEach(function (p) { cards.appendChild(card(p)); });
      item.appendChild(cards);
    }
    if (data.links && data.links.length) {
      var links = el("p", "assistant-links");
      data.links.forEach(function (l) {
        var url = safeUrl(l.url);
        if (!url) { return; }
        var a = el("a", null, l.label);
        a.href = url;
        links.appendChild(a);
      });
      item.appendChild(links);
    }
    if (data.conversation_id) {
      try { window.sessionStorage.setItem(STORE, String(data.conversation_id)); } catch (e) { /* private mode */ }
      startPolling();
    }
    log.scrollTop = log.scrollHeight;
  }

  function ask(text) {
    say(root.dataset.you, text, "me");
    var body = { text: text };
    var product = productOnPage();
    if (product) { body.product_id = product; }
    form.classList.add("is-busy");
    fetch("/api/v1/assistant/messages", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 429) { throw new Error(root.dataset.busy); }
      if (!response.ok) { throw new Error(root.dataset.error); }
      return response.json();
    }).then(answer).catch(function (error) {
      say(root.dataset.bot, error && error.message ? error.message : root.dataset.error, "error");
    }).then(function () { form.classList.remove("is-busy"); });
  }

  /* A hand-off's answers come from the seller: show new ones while the panel is open. */
  function poll() {
    var id = null;
    try { id = window.sessionStorage.getItem(STORE); } catch (e) { return; }
    if (!id || panel.hidden) { return; }
    fetch("/api/v1/assistant/conversations/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (conversation) {
        if (!conversation) { return; }
        conversation.messages.forEach(function (m) {
          if (m.author !== "merchant" || seen[m.id]) { return; }
          seen[m.id] = true;
          say(root.dataset.seller, m.body, "seller");
        });
      }).catch(function () { /* try again later */ });
  }

  function startPolling() {
    if (!poller) { poller = window.setInterval(poll, 15000); }
  }

  function open(show) {
    panel.hidden = !show;
    toggle.setAttribute("aria-expanded", show ? "true" : "false");
    root.classList.toggle("is-open", show);
    if (show) { input.focus(); poll(); }
  }

  toggle.addEventListener("click", function () { open(panel.hidden); });
  root.querySelector(".assistant-close").addEventListener("click", function () { open(false); toggle.focus(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    ask(text.slice(0, 1000));
  });
  try { if (window.sessionStorage.getItem(STORE)) { startPolling(); } } catch (e) { /* private mode */ }
}());
