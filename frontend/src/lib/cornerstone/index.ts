export { initCornerstone, isCornerstoneReady } from "./init";
export { ViewerResources } from "./ViewerResources";
