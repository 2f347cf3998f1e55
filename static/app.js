// Entry point: route on the URL. "/" is the catalog, "/packs/{name}" a pack.
import { showCatalog } from "./catalog.js";
import { showPack } from "./pack.js";

function route() {
  const main = document.getElementById("main");
  const match = window.location.pathname.match(/^\/packs\/([^/]+)\/?$/);
  if (match) {
    showPack(main, decodeURIComponent(match[1]));
  } else {
    showCatalog(main);
  }
}

window.addEventListener("popstate", route);
route();
