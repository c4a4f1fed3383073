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

    /// The operator called `name`, if registered.
    pub fn operator(&self, name: &str) -> Result<Option<Operator>> {
        Ok(self.store.operator(name)?)
    }
}
