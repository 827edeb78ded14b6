// A deadline for a step of the fault suite that nothing else bounds (docker, ssh, a whole case).

/** `work`'s result, or an error naming `what` once it has run `ms` (the work is not stopped). */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still running after ${ms / 1000} s (stuck), the suite stops`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
