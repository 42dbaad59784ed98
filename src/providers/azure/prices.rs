//! VM prices from the public Azure Retail Prices API (no credentials):
//! `GET {retail_prices_url}?$filter=armRegionName eq '…' and armSkuName eq '…'
//! and priceType eq 'Consumption'&currencyCode='…'`, every page (NextPageLink, on
//! the same host only). Of the meters answered, the pay-as-you-go Linux one is
//! the on-demand price and the Linux "Spot" one the spot price; Windows,
//! Low Priority (the retired Batch/VMSS tier), Dev/Test and reservations are not
//! the price of the next instance a scale set adds.

use serde::Deserialize;

use crate::model::{CloudKind, SpotPrice};
use crate::providers::ProviderError;
use crate::providers::http::{decode, read_body, status_error, transport_error};
use crate::providers::shared::price_cache::{Demand, PriceRead, TypeDemand};

/// Pages followed per type at most: a filtered answer is a page or two.
const MAX_PAGES: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page {
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub next_page_link: Option<String>,
}

/// One meter of the answer. Every field is optional: an item without what is
/// needed is left out, not read as 0.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub currency_code: Option<String>,
    pub retail_price: Option<f64>,
    pub arm_region_name: Option<String>,
    pub arm_sku_name: Option<String>,
    pub sku_name: Option<String>,
    pub meter_name: Option<String>,
    pub product_name: Option<String>,
    pub unit_of_measure: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub effective_start_date: Option<String>,
    pub is_primary_meter_region: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meter {
    OnDemand,
    Spot,
}

impl Item {
    /// Which price of the next instance this item is, if any.
    pub fn meter(&self) -> Option<Meter> {
        if !self.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("Consumption")) {
            return None;
        }
        if !self.unit_of_measure.as_deref().is_some_and(|u| u.trim().eq_ignore_ascii_case("1 Hour")) {
            return None;
        }
        if self.product_name.as_deref().is_some_and(|p| p.contains("Windows")) {
            return None;
        }
        let names = [self.sku_name.as_deref(), self.meter_name.as_deref()];
        let has = |w: &str| names.iter().flatten().any(|n| n.contains(w));
        if has("Low Priority") {
            return None;
        }
        Some(if has("Spot") { Meter::Spot } else { Meter::OnDemand })
    }
}

/// The filter for one type in one region (values quoted as OData wants).
pub fn filter(d: &TypeDemand) -> String {
    let q = |s: &str| s.replace('\'', "''");
    format!(
        "armRegionName eq '{}' and armSkuName eq '{}' and priceType eq 'Consumption'",
        q(&d.region),
        q(&d.instance_type)
    )
}

/// Read every demanded type's prices.
pub async fn read(
    client: &reqwest::Client,
    url: &str,
    currency: &str,
    demand: &Demand,
) -> Result<PriceRead, ProviderError> {
    let mut out = PriceRead::default();
    for d in &demand.0 {
        let mut items = Vec::new();
        let first =
            reqwest::Url::parse_with_params(url, &[("$filter", filter(d)), ("currencyCode", format!("'{currency}'"))])
                .map_err(|e| ProviderError::BadResponse(format!("retail_prices_url {url}: {e}")))?;
        let mut next = Some(first.clone());
        let mut pages = 0;
        while let Some(at) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                log::warn!("Retail Prices: {} still had pages after {MAX_PAGES}", d.instance_type);
                break;
            }
            out.calls += 1;
            let what = "Retail Prices";
            let resp = client.get(at).send().await.map_err(|e| transport_error(what, &e))?;
            let status = resp.status();
            let body = read_body(what, resp).await?;
            if !status.is_success() {
                return Err(status_error(what, status, &body));
            }
            let page: Page = decode(what, &body)?;
            items.extend(page.items);
            next = match page.next_page_link.filter(|l| !l.is_empty()) {
                None => None,
                Some(link) => {
                    let link = reqwest::Url::parse(&link)
                        .map_err(|e| ProviderError::BadResponse(format!("{what}: NextPageLink {link}: {e}")))?;
                    // Only the API's own host: a link elsewhere is not followed.
                    if link.origin() != first.origin() {
                        return Err(ProviderError::BadResponse(format!(
                            "{what}: NextPageLink leads to another host ({})",
                            link.origin().ascii_serialization()
                        )));
                    }
                    Some(link)
                }
            };
        }
        out.prices.push(price(d, currency, &items));
    }
    Ok(out)
}

/// One type's prices from its items: the cheapest meter of each kind in the
/// asked region and currency (a primary meter region first, when several).
pub fn price(d: &TypeDemand, currency: &str, items: &[Item]) -> SpotPrice {
    let pick = |m: Meter| {
        items
            .iter()
            .filter(|i| i.meter() == Some(m))
            .filter(|i| i.arm_region_name.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(&d.region)))
            .filter(|i| i.arm_sku_name.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(&d.instance_type)))
            .filter(|i| i.currency_code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(currency)))
            .filter_map(|i| i.retail_price.filter(|p| p.is_finite() && *p >= 0.0).map(|p| (i, p)))
            .min_by(|a, b| {
                let primary = |i: &Item| i.is_primary_meter_region != Some(true);
                primary(a.0).cmp(&primary(b.0)).then(a.1.total_cmp(&b.1))
            })
    };
    let on_demand = pick(Meter::OnDemand);
    let spot = pick(Meter::Spot);
    SpotPrice {
        cloud: CloudKind::Azure,
        region: d.region.clone(),
        instance_type: d.instance_type.clone(),
        currency: currency.to_string(),
        zone: None,
        on_demand_hourly: on_demand.map(|(_, p)| p),
        on_demand_from: if on_demand.is_some() { "retail prices".into() } else { "unknown".into() },
        spot_hourly: spot.map(|(_, p)| p),
        spot_since: spot
            .and_then(|(i, _)| i.effective_start_date.as_deref())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
        groups: d.groups.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand() -> TypeDemand {
        TypeDemand {
            region: "westeurope".into(),
            instance_type: "Standard_D2s_v5".into(),
            groups: vec!["web".into()],
            zones: vec![],
        }
    }

    /// The shape the API reference documents for one meter.
    fn documented(sku_name: &str, product: &str, price: f64) -> serde_json::Value {
        serde_json::json!({
            "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": "westeurope", "location": "EU West", "effectiveStartDate": "2024-05-01T00:00:00Z",
            "meterId": "000a794b-bdb0-58be-a0cd-0c3a0f222923", "meterName": sku_name, "productId": "DZH318Z0BQPS",
            "skuId": "DZH318Z0BQPS/00TG", "productName": product, "skuName": sku_name,
            "serviceName": "Virtual Machines", "serviceId": "DZH313Z7MMC8", "serviceFamily": "Compute",
            "unitOfMeasure": "1 Hour", "type": "Consumption", "isPrimaryMeterRegion": true,
            "armSkuName": "Standard_D2s_v5"
        })
    }

    #[test]
    fn linux_pay_as_you_go_and_spot_are_the_prices_others_are_not() {
        let page: Page = serde_json::from_value(serde_json::json!({
            "BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
            "Items": [
                documented("D2s v5", "Virtual Machines Dsv5 Series", 0.115),
                documented("D2s v5 Spot", "Virtual Machines Dsv5 Series", 0.0231),
                documented("D2s v5 Low Priority", "Virtual Machines Dsv5 Series", 0.023),
                documented("D2s v5", "Virtual Machines Dsv5 Series Windows", 0.207),
                documented("D2s v5 Spot", "Virtual Machines Dsv5 Series Windows", 0.0412),
                {"retailPrice": 0.001, "type": "Consumption", "unitOfMeasure": "1 Hour", "currencyCode": "USD"},
                {"retailPrice": null, "type": "Consumption"},
            ],
            "NextPageLink": null, "Count": 7
        }))
        .expect("documented shape");
        let mut items = page.items;
        items[5].sku_name = Some("D2s v5".into());
        items[5].kind = Some("DevTestConsumption".into());
        let p = price(&demand(), "USD", &items);
        assert_eq!((p.on_demand_hourly, p.spot_hourly), (Some(0.115), Some(0.0231)));
        assert_eq!(p.on_demand_from, "retail prices");
        assert!(p.spot_since.is_some());
        let none = price(&demand(), "EUR", &items);
        assert_eq!((none.on_demand_hourly, none.spot_hourly), (None, None), "another currency is not this one");
    }

    #[test]
    fn the_filter_quotes_names() {
        let mut d = demand();
        d.instance_type = "O'Brien".into();
        assert_eq!(
            filter(&d),
            "armRegionName eq 'westeurope' and armSkuName eq 'O''Brien' and priceType eq 'Consumption'"
        );
    }
}
