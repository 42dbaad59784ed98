//! A stand-in for the public Azure Retail Prices API: for each (region, VM size)
//! asked through `$filter`, generated meters in the documented item shape, paged
//! with `NextPageLink`, and the prices opsdeck should take from them.
//!
//! Every answer is a function of (seed, region, size), so the server and the
//! truth agree without sharing state. Besides the two meters that are the price of
//! the next instance (Linux pay-as-you-go and Linux Spot), the answer carries the
//! meters that are not: Windows, Low Priority, Dev/Test, reservations, another
//! currency; either real meter may be missing.

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use super::azure_estate::Rng;

/// The currencies the stand-in answers in (the one asked, and a stray one).
const STRAY_CURRENCY: &str = "EUR";

/// What opsdeck should show for one (region, size): (on-demand, spot) in the
/// asked currency; None where the meter is absent.
pub fn truth(seed: u64, region: &str, size: &str) -> (Option<f64>, Option<f64>) {
    let (items, _) = items(seed, region, size, "USD");
    let pick = |spot: bool| {
        items
            .iter()
            .filter(|i| i["real"] == json!(true) && i["spot"] == json!(spot))
            .filter_map(|i| i["retailPrice"].as_f64())
            .fold(None, |acc: Option<f64>, p| Some(acc.map_or(p, |a| a.min(p))))
    };
    (pick(false), pick(true))
}

fn hash(seed: u64, region: &str, size: &str) -> u64 {
    let mut h: u64 = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in region.bytes().chain([0]).chain(size.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The meters of one (region, size), marked with whether each is a real price
/// (`real`) and which (`spot`); and the page size.
fn items(seed: u64, region: &str, size: &str, currency: &str) -> (Vec<Value>, usize) {
    let mut r = Rng::new(hash(seed, region, size));
    let short = size.trim_start_matches("Standard_").replace('_', " ");
    let cents = |r: &mut Rng, lo: u64, hi: u64| r.range(lo, hi) as f64 / 10_000.0;
    let meter = |sku: String, product: &str, price: f64, kind: &str, cur: &str, real: bool, spot: bool| {
        json!({
            "currencyCode": cur, "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "location": region, "effectiveStartDate": "2025-03-01T00:00:00Z",
            "meterId": format!("{:x}", hash(seed, &sku, product)), "meterName": sku, "productName": product,
            "skuName": sku, "serviceName": "Virtual Machines", "serviceFamily": "Compute",
            "unitOfMeasure": "1 Hour", "type": kind, "isPrimaryMeterRegion": true, "armSkuName": size,
            "real": real, "spot": spot,
        })
    };
    let linux = "Virtual Machines Series";
    let windows = "Virtual Machines Series Windows";
    let mut out = Vec::new();
    let on_demand = cents(&mut r, 200, 9000);
    if !r.chance(10) {
        out.push(meter(short.clone(), linux, on_demand, "Consumption", currency, true, false));
    }
    if !r.chance(20) {
        let spot = (on_demand * r.range(10, 60) as f64 / 100.0 * 10_000.0).round() / 10_000.0;
        out.push(meter(format!("{short} Spot"), linux, spot, "Consumption", currency, true, true));
    }
    // Meters that are not the next instance's price, cheaper so a slip would show.
    out.push(meter(
        format!("{short} Low Priority"),
        linux,
        cents(&mut r, 1, 50),
        "Consumption",
        currency,
        false,
        false,
    ));
    out.push(meter(short.clone(), windows, cents(&mut r, 1, 50), "Consumption", currency, false, false));
    out.push(meter(format!("{short} Spot"), windows, cents(&mut r, 1, 50), "Consumption", currency, false, true));
    out.push(meter(short.clone(), linux, cents(&mut r, 1, 50), "DevTestConsumption", currency, false, false));
    out.push(meter(short.clone(), linux, cents(&mut r, 1, 50), "Reservation", currency, false, false));
    out.push(meter(short.clone(), linux, cents(&mut r, 1, 50), "Consumption", STRAY_CURRENCY, false, false));
    // Shuffled, so no order is relied on.
    for i in (1..out.len()).rev() {
        let j = r.range(0, i as u64) as usize;
        out.swap(i, j);
    }
    let page = r.range(1, 4) as usize;
    (out, page)
}

/// The value of `name eq '…'` in an OData filter.
fn filter_value(filter: &str, name: &str) -> Option<String> {
    let at = filter.find(&format!("{name} eq '"))? + name.len() + 5;
    let rest = &filter[at..];
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some(out);
        }
        out.push(c);
    }
    None
}

/// The answer to one request to `/api/retail/prices`.
pub fn answer(seed: u64, req: &Request) -> ResponseTemplate {
    let q = |k: &str| req.url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    let filter = q("$filter").unwrap_or_default();
    let (Some(region), Some(size)) = (filter_value(&filter, "armRegionName"), filter_value(&filter, "armSkuName"))
    else {
        return ResponseTemplate::new(400).set_body_json(json!({"Error": {"Code": "BadRequest", "Message": "filter"}}));
    };
    let currency = q("currencyCode").map(|c| c.trim_matches('\'').to_string()).unwrap_or_else(|| "USD".into());
    let skip: usize = q("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let (all, page) = items(seed, &region, &size, &currency);
    let items: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(page)
        .map(|i| {
            let mut i = i.clone();
            let o = i.as_object_mut().expect("item");
            o.remove("real");
            o.remove("spot");
            i
        })
        .collect();
    let next = (skip + page < all.len()).then(|| {
        // Absolute, on the host the client asked (the stand-in sits behind a TLS front).
        let host = req.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        let mut u = req.url.clone();
        let _ = u.set_scheme("https");
        let (name, port) = host.rsplit_once(':').map_or((host, None), |(n, p)| (n, p.parse::<u16>().ok()));
        let _ = u.set_host(Some(name));
        let _ = u.set_port(port);
        let pairs: Vec<(String, String)> = req
            .url
            .query_pairs()
            .filter(|(k, _)| k != "$skip")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs).append_pair("$skip", &(skip + page).to_string());
        u.to_string()
    });
    ResponseTemplate::new(200).set_body_json(json!({
        "BillingCurrency": currency, "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
        "Items": items, "NextPageLink": next, "Count": items.len(),
    }))
}
