//! SiliconFlow: `GET /v1/user/info` with the API key, inside a `{code: 20000, …}` envelope with
//! amounts as strings. Its out-of-credit answer is undocumented, so the sim serves no chat.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{authenticate, decimal_text, json_error};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "siliconflow";
pub(crate) const USER_INFO_PATH: &str = "/v1/user/info";

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new().route(USER_INFO_PATH, get(user_info))
}

pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    vec![(USER_INFO_PATH.to_string(), user_info_body(curve, at))]
}

fn user_info_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let wallet = curve.wallet_at(at);
    let gift = wallet.granted.round_dp(2);
    let total = wallet.total.round_dp(2);
    let name = &curve.spec.name;
    json!({
        "code": 20000,
        "message": "OK",
        "status": true,
        "data": {
            "id": format!("user-sim-{name}"),
            // The API documents `name` as always empty from June 11th on.
            "name": "",
            "image": "",
            "email": format!("{name}@example.com"),
            "isAdmin": false,
            "balance": decimal_text(gift, 2),
            "status": "normal",
            "introduction": "",
            "role": "",
            "chargeBalance": decimal_text(total - gift, 2),
            "totalBalance": decimal_text(total, 2),
        },
    })
}

async fn user_info(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(user_info_body(curve, Utc::now())).into_response(),
        // SiliconFlow's API reference gives its 401 body as the JSON string "Invalid token",
        // whether the key is missing or unknown.
        Err(_) => json_error(StatusCode::UNAUTHORIZED, json!("Invalid token")),
    }
}
