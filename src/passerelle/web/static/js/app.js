/* passerelle pages: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  /* Language and currency switchers submit as soon as a choice is made. */
  function initAutosubmit(root) {
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () {
        var form = select.form;
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      });
    });
  }

  /* Product page: picking options shows the matching SKU's price, stock and tiers. */
  function initVariantPicker(root) {
    var picker = root.querySelector("[data-variant-picker]");
    if (!picker) { return; }
    var panels = Array.prototype.slice.call(root.querySelectorAll("[data-sku-panel]"));
    var missing = root.querySelector("[data-sku-missing]");

    function chosenOptions() {
      var chosen = {};
      picker.querySelectorAll("input[data-option]:checked").forEach(function (input) {
        chosen[input.getAttribute("data-option")] = input.value;
      });
      return chosen;
    }

    function matches(panel, chosen) {
      var options = JSON.parse(panel.getAttribute("data-options") || "{}");
      return Object.keys(chosen).every(function (name) {
        return String(options[name]) === chosen[name];
      });
    }

    function update() {
      var chosen = chosenOptions();
      var found = null;
      panels.forEach(function (panel) {
        if (!found && matches(panel, chosen)) { found = panel; }
      });
      panels.forEach(function (panel) { panel.hidden = panel !== found; });
      if (missing) { missing.hidden = found !== null; }
      // The add-to-cart block of the chosen SKU follows its panel.
      root.querySelectorAll("[data-sku-purchase]").forEach(function (block) {
        block.hidden = !found || block.getAttribute("data-sku-purchase") !== found.getAttribute("data-sku-id");
      });
      if (found && window.history && window.history.replaceState) {
        var url = new URL(window.location.href);
        url.search = "";
        url.searchParams.set("sku", found.getAttribute("data-sku-id"));
        window.history.replaceState(null, "", url.toString());
      }
    }

    picker.addEventListener("change", update);
    picker.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  }

  /* Product page: thumbnails swap the main picture. */
  function initGallery(root) {
    var gallery = root.querySelector("[data-gallery]");
    if (!gallery) { return; }
    var main = gallery.querySelector("[data-gallery-main]");
    gallery.querySelectorAll("[data-gallery-thumb]").forEach(function (thumb) {
      thumb.addEventListener("click", function (event) {
        if (!main) { return; }
        event.preventDefault();
        main.src = thumb.getAttribute("href");
        main.alt = thumb.getAttribute("data-alt") || "";
        main.removeAttribute("width");
        main.removeAttribute("height");
        gallery.querySelectorAll("[data-gallery-thumb]").forEach(function (other) {
          other.removeAttribute("aria-current");
        });
        thumb.setAttribute("aria-current", "true");
      });
    });
  }

  /* Search page on a phone: filters start folded so results come first. */
  function initCollapsibleFilters(root) {
    root.querySelectorAll("details[data-collapse-on-phone]").forEach(function (details) {
      if (window.matchMedia("(max-width: 760px)").matches) { details.open = false; }
    });
  }

  /* Console product form: "add a variant" clones the template row. */
  var added = 0;
  function initRepeatRows(root) {
    root.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = root.querySelector(button.getAttribute("data-add-row"));
        var template = root.querySelector(button.getAttribute("data-template"));
        if (!target || !template) { return; }
        var row = template.content.cloneNode(true);
        added += 1;
        // Each copy gets its own ids so every label still points at its own input.
        row.querySelectorAll("[id], [for]").forEach(function (element) {
          ["id", "for"].forEach(function (name) {
            var value = element.getAttribute(name);
            if (value) { element.setAttribute(name, value.replace(/-new$/, "-added" + added)); }
          });
        });
        target.appendChild(row);
      });
    });
  }

  /* Long country checklists: type to filter. */
  function initChecklistFilter(root) {
    root.querySelectorAll("[data-filter-list]").forEach(function (input) {
      var list = root.querySelector(input.getAttribute("data-filter-list"));
      if (!list) { return; }
      input.hidden = false;
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        list.querySelectorAll("label").forEach(function (label) {
          label.hidden = needle !== "" && label.textContent.toLowerCase().indexOf(needle) === -1;
        });
      });
    });
  }

  /* Confirmations for destructive buttons (data-confirm="message"). */
  function initConfirm(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  /* Order timelines: the server writes UTC; show the viewer's own clock. */
  function initLocalTimes(root) {
    var lang = document.documentElement.lang || undefined;
    root.querySelectorAll("time[data-local-time]").forEach(function (element) {
      var moment = new Date(element.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      try {
        element.textContent = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(moment);
        element.title = element.getAttribute("datetime");
      } catch (error) { /* an old browser keeps the UTC text */ }
    });
  }

  /* Forms that must not be sent twice (checkout, card payment). The server's idempotency
     key is the real guarantee; this spares the buyer a confusing second round trip. */
  function initSubmitOnce(root) {
    root.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-submitting") === "true") { event.preventDefault(); return; }
        form.setAttribute("data-submitting", "true");
        // After this tick, so the clicked button's own value is still sent.
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
        }, 0);
      });
    });
    // Coming back with the Back button: the form is usable again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) { return; }
      root.querySelectorAll("form[data-submit-once]").forEach(function (form) {
        form.removeAttribute("data-submitting");
        form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
      });
    });
  }

  /* Sandbox payment page: wait for the provider's webhook by polling the payment. */
  function initPaymentPoll(root) {
    var box = root.querySelector("[data-payment-poll]");
    if (!box || box.getAttribute("data-payment-status") !== "processing") { return; }
    var url = box.getAttribute("data-payment-poll");
    var tries = 0;

    function show(state) {
      box.querySelectorAll("[data-payment-state]").forEach(function (block) {
        block.hidden = block.getAttribute("data-payment-state") !== state;
      });
      box.setAttribute("data-payment-status", state);
    }

    function poll() {
      tries += 1;
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (payment) {
          if (payment && (payment.status === "succeeded" || payment.status === "failed")) {
            if (payment.status === "failed") {
              // The server page names the decline reason; reloading shows it.
              window.location.reload();
              return;
            }
            show(payment.status);
            return;
          }
          schedule();
        })
        .catch(schedule);
    }

    function schedule() {
      if (tries === 30) {
        var slow = box.querySelector("[data-payment-slow]");
        if (slow) { slow.hidden = false; }
      }
      // Quick at first (the webhook usually lands within a second), then gentler.
      window.setTimeout(poll, tries < 20 ? 500 : 2000);
    }

    schedule();
  }

  function init() {
    var root = document;
    initAutosubmit(root);
    initVariantPicker(root);
    initGallery(root);
    initCollapsibleFilters(root);
    initRepeatRows(root);
    initChecklistFilter(root);
    initConfirm(root);
    initLocalTimes(root);
    initSubmitOnce(root);
    initPaymentPoll(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
