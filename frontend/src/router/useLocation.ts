import { useSyncExternalStore } from "react";
import { getLocation, subscribeLocation, type AppLocation } from "./history";

export function useLocation(): AppLocation {
  return useSyncExternalStore(subscribeLocation, getLocation, getLocation);
}
