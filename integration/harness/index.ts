export async function stopAll(): Promise<void> {}
export function installExitHandlers(): void {}
