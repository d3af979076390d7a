// A few lines of a client written against the generated types (kks-api.d.ts, written by
// openapi-typescript from /openapi.json): `tsc --noEmit` fails when the document stops
// saying what a client must send or will receive.
import type { components, operations, paths } from "./kks-api";

type Schemas = components["schemas"];

// A withdrawal must carry an amount; a purchase a programme and a basket.
const withdrawal: Schemas["CashWithdrawalRequest"] = {
  card: { card_number: "5221843673963604" },
  pin: "123456",
  stan: "000002",
  transmitted_at: "2026-12-04T09:16:00+07:00",
  amount: "150000",
};

const purchase: Schemas["PurchaseRequest"] = {
  card: { qr: "KKS1.x.y" },
  pin: "123456",
  stan: "000003",
  transmitted_at: "2026-12-04T09:17:00+07:00",
  programme: "lpg",
  basket: [{ sku: "LPG-3KG", quantity: 3 }],
};

// @ts-expect-error: a withdrawal without an amount is not a CashWithdrawalRequest.
const withoutAmount: Schemas["CashWithdrawalRequest"] = { card: {}, pin: "123456", stan: "000004", transmitted_at: "2026-12-04T09:18:00+07:00" };

// The slip printed after an approved transaction, and what a refusal carries.
type Receipt = operations["cash_withdrawal"]["responses"][200]["content"]["application/json"];
function availableSavings(receipt: Receipt): string | undefined {
  return receipt.balances.find((pocket) => pocket.kind === "savings")?.available;
}

function refusalCode(problem: Schemas["Problem"]): Schemas["ErrorCode"] {
  return problem.code;
}

// What a family's app shows: each pocket's balance, blocked amounts and what is available.
type Balances = paths["/v1/families/{family_id}/balances"]["get"]["responses"][200]["content"]["application/json"];
function totalAvailable(balances: Balances): number {
  return balances.reduce((total, pocket) => total + Number(pocket.available), 0);
}

export { withdrawal, purchase, withoutAmount, availableSavings, refusalCode, totalAvailable };
export type { Balances };
