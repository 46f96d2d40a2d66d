import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createConsoleClient, createConsoleQueryClient, TRPCProvider } from './api';
import { SessionProvider } from './session';
import { sessionEnded } from './sessionEvents';
import './styles.css';

const queryClient = createConsoleQueryClient();
const client = createConsoleClient(() => sessionEnded());

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
