import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { type Organization, useTRPC } from '../../api';
import { type StepUp, useStepUp } from '../../components/StepUp';
import { messageOf } from '../../errors';
import { RequireSsoCard } from './RequireSso';
import { permissionsOf } from './roles';
import { ScimProvisioning } from './ScimProvisioning';
import { SsoConnectionCard } from './SsoConnection';
import { SsoDomains } from './SsoDomains';
import './orgs.css';
import './sso.css';

/**
 * An organization's single sign-on (`/organizations/:id/sso`), for its admins and owner: the
 * email domains it verified, its identity provider connection, whether its members must sign in
 * through it, and the SCIM provisioning of its members. The service checks the role again on every call.
 */
export function SingleSignOnPage() {
  const { id = '' } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const stepUp = useStepUp();
  const detail = useQuery(trpc.org.get.queryOptions({ organizationId: id }));

  if (detail.error)
    return (
      <>
        <h1>Single sign-on</h1>
        <p role="alert" className="error">
          {messageOf(detail.error)}
        </p>
        <Link href="/organizations">Back to organizations</Link>
      </>
    );
  if (!detail.data) return <p className="loading">Loading…</p>;
  const { organization, role } = detail.data;
  const back = (
    <p>
      <Link href={`/organizations/${organization.id}`}>Back to {organization.name}</Link>
    </p>
  );
  if (!permissionsOf(role).sso)
    return (
      <>
        {back}
        <h1 className="long-title">Single sign-on</h1>
        <p>Only the admins and the owner of {organization.name} manage its single sign-on.</p>
      </>
    );
  return (
    <>
      {back}
      <SingleSignOn organization={organization} owner={permissionsOf(role).requireSso} stepUp={stepUp} />
    </>
  );
}

function SingleSignOn({ organization, owner, stepUp }: { organization: Organization['organization']; owner: boolean; stepUp: StepUp }) {
  const required = organization.requireSso;
  return (
    <>
      <h1 className="long-title">Single sign-on: {organization.name}</h1>
      <p>
        Let your members sign in with your company's identity provider. First verify the email domains you hold, then connect the provider;
        once both are done, the owner can make it the only way in.
      </p>
      <SsoDomains organizationId={organization.id} required={required} />
      <SsoConnectionCard organizationId={organization.id} stepUp={stepUp} required={required} />
      <RequireSsoCard organization={organization} owner={owner} />
      <ScimProvisioning organizationId={organization.id} stepUp={stepUp} />
      {stepUp.prompt}
    </>
  );
}
