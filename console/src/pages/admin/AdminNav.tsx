import { Link, useLocation } from 'wouter';

const sections: [string, string][] = [
  ['/admin', 'Dashboard'],
  ['/admin/users', 'Users'],
  ['/admin/audit', 'Audit log'],
];

/** The operator pages' own navigation, under the main one. */
export function AdminNav() {
  const [location] = useLocation();
  return (
    <nav aria-label="Admin" className="admin-nav">
      {sections.map(([path, label]) => (
        <Link
          key={path}
          href={path}
          aria-current={location === path || (path !== '/admin' && location.startsWith(`${path}/`)) ? 'page' : undefined}
        >
          {label}
        </Link>
      ))}
    </nav>
  );
}
