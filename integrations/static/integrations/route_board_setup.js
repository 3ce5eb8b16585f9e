// Route form: picking a Monday.com board loads its columns into the role pickers, its groups
// into the group pickers, with the columns its titles suggest already chosen. One save then
// stores the route (the form falls back to the same suggestions when this script is off).
"use strict";
(function () {
  function fill(select, first, pairs, value) {
    if (!select) return;
    select.replaceChildren();
    [first].concat(pairs).forEach(function (pair) {
      select.add(new Option(pair[1], pair[0]));
    });
    var known = pairs.some(function (pair) { return pair[0] === value; });
    select.value = known ? value : "";
  }

  function note(board, text, isError) {
    var p = document.getElementById("board-setup-note");
    if (!p) {
      p = document.createElement("p");
      p.id = "board-setup-note";
      p.className = "help";
      (board.closest(".form-row") || board.parentNode).appendChild(p);
    }
    p.textContent = text;
    p.style.color = isError ? "#ba2121" : "";
  }

  function load(board) {
    var connection = document.getElementById("id_monday_connection");
    var roles = document.querySelectorAll("select[id^='id_column_']");
    if (!board.value) {
      roles.forEach(function (s) { fill(s, ["", "— not used —"], [], ""); });
      return;
    }
    var query = new URLSearchParams({ board: board.value });
    if (connection && connection.value) query.set("connection", connection.value);
    fetch(board.dataset.setupUrl + "?" + query, { credentials: "same-origin" })
      .then(function (answer) {
        return answer.json().then(function (data) { return { ok: answer.ok, data: data }; });
      })
      .then(function (result) {
        var data = result.data;
        if (!result.ok) { note(board, data.error || "The board's columns could not be loaded.", true); return; }
        if (connection && !connection.value) connection.value = String(data.connection);
        roles.forEach(function (select) {
          var role = data.roles[select.id.slice("id_column_".length)] || { choices: [], suggested: "" };
          fill(select, ["", "— not used —"], role.choices, role.suggested);
        });
        var group = document.getElementById("id_group_id");
        fill(group, ["", "— the board's top group —"], data.groups, group ? group.value : "");
        document.querySelectorAll("select.division-group").forEach(function (select) {
          fill(select, ["", "— the route's group —"], data.groups, select.value);
        });
        var name = board.options[board.selectedIndex].text;
        note(board, "Columns of " + name + " loaded below, chosen from their titles: check them, then save.", false);
      })
      .catch(function () { note(board, "The board's columns could not be loaded: try again.", true); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.querySelector("select[data-setup-url]");
    if (board) board.addEventListener("change", function () { load(board); });
  });
})();
