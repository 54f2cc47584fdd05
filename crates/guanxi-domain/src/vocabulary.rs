//! Controlled vocabularies: every closed list in the customer file (gender, lifecycle stage,
//! source channel, …) is one enum with a stable snake_case wire code. The same code is stored in
//! the database, sent over the API and used as an i18n key suffix, so renaming a Rust variant
//! never breaks data.

/// Declares a vocabulary enum with its wire codes; generates parsing, display and serde.
#[macro_export]
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
        #[schema(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every member, in declaration order (for pickers and validation messages).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every wire code, in declaration order (for catalogues built at compile time).
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The stable wire / storage code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a wire code; unknown codes are an error, never a silent default.
            pub fn parse(s: &str) -> Result<Self, &'static str> {
                match s { $($code => Ok($name::$variant),)+ _ => Err("unknown_value") }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).map_err(|_| {
                    serde::de::Error::custom(format!(
                        "unknown {} `{}`, expected one of: {}",
                        stringify!($name),
                        s,
                        [$($code),+].join(", ")
                    ))
                })
            }
        }
    };
}

vocabulary!(
    /// Whether a customer is a person or an organisation; decides which profile sections apply.
    CustomerKind { Individual => "individual", Company => "company" }
);

vocabulary!(
    /// Gender as the customer states it; `unspecified` is a legitimate answer.
    Gender { Male => "male", Female => "female", Other => "other", Unspecified => "unspecified" }
);

vocabulary!(
    /// Where the customer stands in the relationship; drives care and campaign rules.
    LifecycleStage {
        Prospect => "prospect",
        New => "new",
        Active => "active",
        Dormant => "dormant",
        Lost => "lost",
    }
);

vocabulary!(
    /// The channel a fact came through (customer-file provenance, per the CRM literature).
    SourceChannel {
        Survey => "survey",
        Campaign => "campaign",
        Service => "service",
        PointOfSale => "point_of_sale",
        Exhibition => "exhibition",
        Complaint => "complaint",
        Website => "website",
        CallCentre => "call_centre",
        PurchasedList => "purchased_list",
        PublicRecords => "public_records",
        Partner => "partner",
        Referral => "referral",
        Import => "import",
        Manual => "manual",
    }
);

vocabulary!(
    /// Kinds of contact point; phones and emails are normalised for identification.
    ContactKind {
        Phone => "phone",
        Mobile => "mobile",
        Email => "email",
        Wechat => "wechat",
        Qq => "qq",
        Address => "address",
    }
);

vocabulary!(
    /// How two customers are related. Directed: `from` is the spouse/parent/principal of `to`.
    RelationKind {
        Spouse => "spouse",
        Parent => "parent",
        Colleague => "colleague",
        PrincipalOf => "principal_of",
        ReferredBy => "referred_by",
        Friend => "friend",
        Relative => "relative",
        Neighbour => "neighbour",
    }
);

vocabulary!(
    /// A principal's role in a company (for `principal_of` relations).
    PrincipalRole {
        Owner => "owner",
        LegalRepresentative => "legal_representative",
        Manager => "manager",
        Contact => "contact",
    }
);

vocabulary!(
    /// Sales channel of an order; the analytics slice revenue by it.
    OrderChannel {
        Store => "store",
        Online => "online",
        Phone => "phone",
        Wechat => "wechat",
        Partner => "partner",
    }
);

vocabulary!(
    /// Company business status (在业/存续, 停业, 注销 …).
    BusinessStatus { Operating => "operating", Suspended => "suspended", Dissolved => "dissolved", Unknown => "unknown" }
);

vocabulary!(
    /// Company credit standing, as the credit team judges it.
    CreditStatus { Good => "good", Watch => "watch", Poor => "poor", Unknown => "unknown" }
);

vocabulary!(
    /// Company size band.
    CompanySize {
        Micro => "micro",
        Small => "small",
        Medium => "medium",
        Large => "large",
        Enterprise => "enterprise",
    }
);

vocabulary!(
    /// The channel of an interaction on the customer timeline (面谈, 电话, 短信, 邮件, 微信, 网聊,
    /// 信函); `note` is an internal note nobody sent.
    InteractionChannel {
        FaceToFace => "face_to_face",
        Phone => "phone",
        Sms => "sms",
        Email => "email",
        Wechat => "wechat",
        WebChat => "web_chat",
        Letter => "letter",
        Note => "note",
    }
);

vocabulary!(
    /// Why a contact happened (the seeds' purposes: enquiry, care, complaint, objection,
    /// sales, follow-up), for reports on what the customer interaction centre spends time on.
    InteractionPurpose {
        Enquiry => "enquiry",
        Care => "care",
        Complaint => "complaint",
        Objection => "objection",
        Sales => "sales",
        FollowUp => "follow_up",
    }
);

vocabulary!(
    /// Who started an interaction: the customer (inbound), us (outbound), or nobody (an internal note).
    InteractionDirection { Inbound => "inbound", Outbound => "outbound", Internal => "internal" }
);
