/** A slow data source the example caches (stands in for a database or a remote API). */
export const calls = { count: 0 };

export async function loadProduct(id: number): Promise<{ id: number; name: string; price_cents: number }> {
  calls.count += 1;
  await new Promise((r) => setTimeout(r, 50));
  return { id, name: `Product ${id}`, price_cents: 1000 + id };
}
