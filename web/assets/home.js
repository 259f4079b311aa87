// The home page: what each page is for, in the person's language.
import { frame, loadConfig } from "./core.js";

const config = await loadConfig();
await frame({ title: "page.home" });
if (config.docs_url) document.querySelector("a.docs").href = config.docs_url;
else document.querySelector("a.docs").hidden = true;
