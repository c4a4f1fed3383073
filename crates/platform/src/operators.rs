//! Operators: who may run which actions. Adding one is audited like any
//! other change.

use super::{Platform, PlatformError, Requester, Result};
use crate::model::Role;
use oort_store::Operator;

impl Platform {
    /// Registers an operator with `role`, working in one tenant or (`None`)
    /// platform-wide; refused if the name is taken.
    pub fn add_operator(
        &self,
        by: &Requester,
        name: &str,
        role: Role,
        tenant: Option<&str>,
    ) -> Result<Operator> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PlatformError::InvalidInput("operator name is empty".into()));
        }
        let operator = self.store.add_operator(name, role, tenant)?;
        self.audit_change(
            by,
            None,
            "operator.add",
            &operator.name,
            match &operator.tenant {
                Some(tenant) => format!("succeeded: role {} in tenant {tenant}", operator.role),
                None => format!("succeeded: role {}, platform-wide", operator.role),
            },
        )?;
        Ok(operator)
    }

    pub fn operators(&self) -> Result<Vec<Operator>> {
        Ok(self.store.operators()?)
    }

    /// The operators working in `tenant` (platform-wide ones are not its).
    pub fn tenant_operators(&self, tenant: &str) -> Result<Vec<Operator>> {
        Ok(self
            .operators()?
            .into_iter()
            .filter(|o| o.tenant.as_deref() == Some(tenant))
            .collect())
    }

    /// The operator `name` if they work in `tenant`; `NotFound` otherwise,
    /// saying nothing of operators elsewhere.
    pub fn tenant_operator(&self, tenant: &str, name: &str) -> Result<Operator> {
        match self.store.operator(name)? {
            Some(operator) if operator.tenant.as_deref() == Some(tenant) => Ok(operator),
            _ => Err(PlatformError::NotFound(format!(
                "no operator `{name}` in tenant `{tenant}`"
            ))),
        }
    }

    /// The operator called `name`, if registered.
    pub fn operator(&self, name: &str) -> Result<Option<Operator>> {
        Ok(self.store.operator(name)?)
    }
}
