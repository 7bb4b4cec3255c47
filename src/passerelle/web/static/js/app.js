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

  function init() {
    var root = document;
    initAutosubmit(root);
    initVariantPicker(root);
    initGallery(root);
    initCollapsibleFilters(root);
    initRepeatRows(root);
    initChecklistFilter(root);
    initConfirm(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
