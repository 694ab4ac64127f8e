(function () {
  "use strict";
  // Progressive: without this script every evidence box is simply listed.
  document.documentElement.classList.add("js");
  var claims = Array.prototype.slice.call(document.querySelectorAll(".claim[data-claim]"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".evidence[data-claim]"));
  var hint = document.querySelector(".evidence-column .hint");
  var pinned = null;

  function show(number) {
    boxes.forEach(function (box) { box.classList.toggle("active", box.dataset.claim === number); });
    claims.forEach(function (claim) { claim.classList.toggle("selected", claim.dataset.claim === number); });
    if (hint) { hint.classList.toggle("hidden", number !== null); }
  }
  claims.forEach(function (claim) {
    claim.addEventListener("click", function () { pinned = claim.dataset.claim; show(pinned); });
    claim.addEventListener("mouseenter", function () { show(claim.dataset.claim); });
    claim.addEventListener("mouseleave", function () { show(pinned); });
    claim.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); claim.click(); }
    });
  });

  // Editor feedback (web app only): the right label for a verdict, stored by the server.
  Array.prototype.forEach.call(document.querySelectorAll("form.feedback"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".status");
      var body = JSON.stringify({
        report_id: form.dataset.report,
        claim_index: Number(form.dataset.index),
        label: form.elements.label.value,
        comment: form.elements.comment.value
      });
      status.textContent = "saving...";
      fetch("/api/feedback", { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
        .then(function (response) {
          return response.json().then(function (data) {
            status.textContent = response.ok ? "saved, thank you" : "not saved: " + (data.detail || response.status);
          });
        })
        .catch(function () { status.textContent = "not saved: the server did not answer"; });
    });
  });

  // The check form: one more source box per click.
  var add = document.getElementById("add-source");
  var sources = document.getElementById("sources");
  if (add && sources) {
    add.addEventListener("click", function () {
      var boxes = sources.querySelectorAll("fieldset");
      var copy = boxes[boxes.length - 1].cloneNode(true);
      copy.querySelector("legend").textContent = "Source " + (boxes.length + 1);
      copy.querySelector("textarea").value = "";
      copy.querySelector("input[type=file]").value = "";
      var address = copy.querySelector("input[type=url]");
      if (address) { address.value = ""; }
      sources.appendChild(copy);
    });
  }
})();
