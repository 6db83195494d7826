"""A thin wrapper over the low-level client: the table name, typed items, and error codes."""

from __future__ import annotations

from typing import Any, Iterator

from cloutagent.adapters.dynamo.codec import from_item, to_attr, to_item


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def cancellation_codes(exc: Exception) -> list[str]:
    response = getattr(exc, "response", None) or {}
    return [r.get("Code", "None") for r in response.get("CancellationReasons", [])] or ["Unknown"]


def cancelled_item(exc: Exception, index: int) -> dict[str, Any] | None:
    """The item a cancelled transaction's ``index``-th operation found, when that operation asked
    for it (``ReturnValuesOnConditionCheckFailure: ALL_OLD``) and the item exists."""
    reasons = (getattr(exc, "response", None) or {}).get("CancellationReasons", [])
    item = reasons[index].get("Item") if index < len(reasons) else None
    return from_item(item) if item else None


class Table:
    def __init__(self, client: Any, name: str):
        self.client = client
        self.name = name

    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        out = self.client.get_item(
            TableName=self.name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=consistent
        )
        return from_item(out["Item"]) if "Item" in out else None

    def put(self, values: dict[str, Any], *, condition: str | None = None, names=None, vals=None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_item(values)}
        _add_condition(kwargs, condition, names, vals)
        self.client.put_item(**kwargs)

    def delete(self, pk: str, sk: str, *, return_old: bool = False) -> dict[str, Any] | None:
        out = self.client.delete_item(
            TableName=self.name,
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            ReturnValues="ALL_OLD" if return_old else "NONE",
        )
        return from_item(out["Attributes"]) if out.get("Attributes") else None

    def update(
        self, pk: str, sk: str, expression: str, *, names=None, vals=None, condition: str | None = None,
        returns: str = "ALL_NEW",
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
            "UpdateExpression": expression,
            "ReturnValues": returns,
        }
        _add_condition(kwargs, condition, names, vals)
        return from_item(self.client.update_item(**kwargs).get("Attributes", {}))

    def query_page(
        self,
        pk: str,
        *,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        index: str | None = None,
        limit: int | None = None,
        start_key: dict | None = None,
        forward: bool = True,
        filter_expr: str | None = None,
        names: dict | None = None,
        vals: dict | None = None,
        consistent: bool = False,
        projection: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict | None]:
        pk_name, sk_name = ("GSI1PK", "GSI1SK") if index == "GSI1" else ("PK", "SK")
        expr = "#pk = :pk"
        all_names = {"#pk": pk_name, **(names or {})}
        all_vals = {":pk": pk, **(vals or {})}
        if sk_prefix is not None:
            expr += " AND begins_with(#sk, :skp)"
            all_names["#sk"], all_vals[":skp"] = sk_name, sk_prefix
        if sk_between is not None:
            expr += " AND #sk BETWEEN :sk1 AND :sk2"
            all_names["#sk"] = sk_name
            all_vals[":sk1"], all_vals[":sk2"] = sk_between
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": expr,
            "ExpressionAttributeNames": all_names,
            "ExpressionAttributeValues": {k: to_attr(v) for k, v in all_vals.items()},
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        if filter_expr:
            kwargs["FilterExpression"] = filter_expr
        if projection:
            kwargs["ProjectionExpression"] = projection
        out = self.client.query(**kwargs)
        return [from_item(i) for i in out.get("Items", [])], out.get("LastEvaluatedKey")

    def query_all(self, pk: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        start = None
        while True:
            items, start = self.query_page(pk, start_key=start, **kwargs)
            yield from items
            if not start:
                return

    def batch_delete(self, keys: list[tuple[str, str]]) -> None:
        for i in range(0, len(keys), 25):
            requests = [
                {"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}} for pk, sk in keys[i : i + 25]
            ]
            self._batch_write(requests)

    def _batch_write(self, requests: list[dict]) -> None:
        pending = {self.name: requests}
        for _ in range(8):
            out = self.client.batch_write_item(RequestItems=pending)
            pending = out.get("UnprocessedItems") or {}
            if not pending:
                return
        raise RuntimeError("DynamoDB kept items unprocessed")

    def transact(self, operations: list[dict[str, Any]]) -> None:
        for op in operations:
            (kind, body), = op.items()
            body["TableName"] = self.name
        self.client.transact_write_items(TransactItems=operations)


def _add_condition(kwargs: dict, condition: str | None, names: dict | None, vals: dict | None) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if vals:
        kwargs["ExpressionAttributeValues"] = {k: to_attr(v) for k, v in vals.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}
