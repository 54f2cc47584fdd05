//! Row types as the database returns them and their conversion into domain records. Stored codes
//! that no longer parse are reported as corruption, never silently defaulted.

use guanxi_domain::customer::CustomerFields;
use guanxi_domain::profile::Anniversary;
use guanxi_domain::provenance::Provenance;
use guanxi_domain::records::{ContactPoint, Customer, RowMeta};
use guanxi_domain::vocabulary::{ContactKind, CustomerKind, Gender, LifecycleStage, SourceChannel};

use crate::db::from_ms;
use crate::error::{Result, StoreError};

/// Parses a stored vocabulary code.
pub(crate) fn code<T>(
    parse: fn(&str) -> std::result::Result<T, &'static str>,
    s: &str,
    what: &str,
) -> Result<T> {
    parse(s).map_err(|_| StoreError::Corrupt(format!("{what}: {s}")))
}

fn json<T: serde::de::DeserializeOwned>(s: Option<&str>, what: &str) -> Result<Option<T>> {
    s.map(|s| serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}"))))
        .transpose()
}

/// Provenance columns shared by customers, contact points and relations.
pub(crate) fn provenance(
    channel: &str,
    direct: bool,
    by: Option<i64>,
    at: i64,
) -> Result<Provenance> {
    Ok(Provenance {
        channel: code(SourceChannel::parse, channel, "source_channel")?,
        direct,
        collected_by: by,
        collected_at: Some(from_ms(at)),
    })
}

pub(crate) fn meta(
    version: i64,
    created_at: i64,
    updated_at: i64,
    created_by: Option<i64>,
    updated_by: Option<i64>,
) -> RowMeta {
    RowMeta {
        version,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
        created_by,
        updated_by,
    }
}

/// Column list matching [`CustomerRow`], for `SELECT … FROM customers c`.
pub(crate) const CUSTOMER_COLUMNS: &str =
    "c.id, c.kind, c.name, c.name_pinyin, c.name_initials, c.name_sort, \
    c.gender, c.birthday, c.birthday_lunar, c.id_number, c.province, c.city, c.address, \
    c.time_zone, c.employer, c.job_title, c.industry, c.lifecycle_stage, c.owner_id, c.tags, c.source_channel, \
    c.source_direct, c.source_collected_by, c.source_collected_at, c.profile, c.company, \
    c.version, c.created_at, c.updated_at, c.created_by, c.updated_by";

#[derive(sqlx::FromRow, Debug)]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub name_pinyin: String,
    pub name_initials: String,
    /// The list's sort key for the name (pinyin order).
    pub name_sort: String,
    pub gender: Option<String>,
    pub birthday: Option<String>,
    pub birthday_lunar: Flag,
    pub id_number: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub time_zone: Option<String>,
    pub employer: Option<String>,
    pub job_title: Option<String>,
    pub industry: Option<String>,
    pub lifecycle_stage: String,
    pub owner_id: Option<i64>,
    pub tags: String,
    pub source_channel: String,
    pub source_direct: Flag,
    pub source_collected_by: Option<i64>,
    pub source_collected_at: i64,
    pub profile: Option<String>,
    pub company: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

impl CustomerRow {
    /// The editable fields, as a patch is applied to them.
    pub fn fields(&self) -> Result<CustomerFields> {
        Ok(CustomerFields {
            kind: code(CustomerKind::parse, &self.kind, "kind")?,
            name: self.name.clone(),
            gender: self
                .gender
                .as_deref()
                .map(|g| code(Gender::parse, g, "gender"))
                .transpose()?,
            birthday: self
                .birthday
                .as_deref()
                .map(|b| {
                    Anniversary::from_storage(b, self.birthday_lunar.0)
                        .ok_or_else(|| StoreError::Corrupt(format!("birthday: {b}")))
                })
                .transpose()?,
            id_number: self.id_number.clone(),
            province: self.province.clone(),
            city: self.city.clone(),
            address: self.address.clone(),
            time_zone: self.time_zone.clone(),
            employer: self.employer.clone(),
            job_title: self.job_title.clone(),
            industry: self.industry.clone(),
            lifecycle_stage: Some(code(
                LifecycleStage::parse,
                &self.lifecycle_stage,
                "lifecycle_stage",
            )?),
            owner_id: self.owner_id,
            tags: json(Some(&self.tags), "tags")?.unwrap_or_default(),
            source: Some(provenance(
                &self.source_channel,
                self.source_direct.0,
                self.source_collected_by,
                self.source_collected_at,
            )?),
            profile: json(self.profile.as_deref(), "profile")?,
            company: json(self.company.as_deref(), "company")?,
            contact_points: Vec::new(),
            allow_duplicate: false,
            custom: Default::default(),
        })
    }

    /// The full read model (unmasked; the web layer masks per reader).
    pub fn into_record(self, contact_points: Vec<ContactPoint>) -> Result<Customer> {
        let f = self.fields()?;
        Ok(Customer {
            id: self.id,
            kind: f.kind,
            name: f.name,
            name_pinyin: self.name_pinyin,
            name_initials: self.name_initials,
            gender: f.gender,
            birthday: f.birthday,
            id_number: f.id_number,
            id_number_masked: false,
            province: f.province,
            city: f.city,
            address: f.address,
            time_zone: f.time_zone,
            employer: f.employer,
            job_title: f.job_title,
            industry: f.industry,
            lifecycle_stage: f.lifecycle_stage.unwrap_or(LifecycleStage::Prospect),
            owner_id: f.owner_id,
            tags: f.tags,
            source: f
                .source
                .ok_or_else(|| StoreError::Corrupt("source".into()))?,
            profile: f.profile,
            company: f.company,
            contact_points,
            custom: Default::default(),
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
        })
    }
}

/// Column list matching [`ContactRow`].
pub(crate) const CONTACT_COLUMNS: &str = "id, customer_id, kind, value_raw, value_normalized, label, \
    is_primary, consent_marketing, consent_updated_at, source_channel, source_direct, \
    source_collected_by, source_collected_at, version, created_at, updated_at, created_by, updated_by";

#[derive(sqlx::FromRow, Debug)]
pub(crate) struct ContactRow {
    pub id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub value_raw: String,
    pub value_normalized: String,
    pub label: Option<String>,
    pub is_primary: Flag,
    pub consent_marketing: Flag,
    pub consent_updated_at: Option<i64>,
    pub source_channel: String,
    pub source_direct: Flag,
    pub source_collected_by: Option<i64>,
    pub source_collected_at: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

impl ContactRow {
    pub fn into_record(self) -> Result<ContactPoint> {
        Ok(ContactPoint {
            id: self.id,
            customer_id: self.customer_id,
            kind: code(ContactKind::parse, &self.kind, "contact kind")?,
            value: self.value_raw,
            value_normalized: self.value_normalized,
            label: self.label,
            is_primary: self.is_primary.0,
            consent_marketing: self.consent_marketing.0,
            consent_updated_at: self.consent_updated_at.map(from_ms),
            source: provenance(
                &self.source_channel,
                self.source_direct.0,
                self.source_collected_by,
                self.source_collected_at,
            )?,
            meta: meta(
                self.version,
                self.created_at,
                self.updated_at,
                self.created_by,
                self.updated_by,
            ),
        })
    }
}

/// A boolean column. PostgreSQL stores BOOLEAN; SQLite stores INTEGER 0/1 because sqlx's `Any`
/// driver (0.8) refuses SQLite's BOOLEAN decltype. This type decodes either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        matches!(ty.kind(), sqlx::any::AnyTypeInfoKind::Bool) || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(
        v: sqlx::any::AnyValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<sqlx::Any>>::decode(v.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => Ok(Flag(<i64 as sqlx::Decode<sqlx::Any>>::decode(v)? != 0)),
        }
    }
}

/// A value kept as JSON text in its column (a plan's lists, a deal's competitors, a merge's
/// record); a value that will not serialise is a bug, reported as `Corrupt` naming `what`.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
