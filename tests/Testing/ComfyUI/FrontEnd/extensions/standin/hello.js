// An extension's web file, loaded by the front end from the list GET /extensions gives.
document.getElementById("extensions").textContent = "Extension standin/hello.js loaded";
