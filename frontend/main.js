// Entry point of the page bundle: mounts the Vue app on #app (templates/index.html).
import { createApp } from "vue";
import App from "./App.vue";

createApp(App).mount("#app");
